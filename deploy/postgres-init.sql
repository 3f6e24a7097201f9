-- The second database, Rasa's tracker store (the first, the app's, is POSTGRES_DB).
CREATE DATABASE rasa;
