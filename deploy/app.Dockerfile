# The app (bot/): build from the repository root after `make risk-model`:
#   docker build -f deploy/app.Dockerfile -t youthchat-app .
FROM python:3.11-slim
# One math thread per operation and two malloc arenas (bot/run_local.py PROCESS_TUNING).
ENV OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 TF_INTRA_OP_PARALLELISM_THREADS=1 TF_INTER_OP_PARALLELISM_THREADS=1 MALLOC_ARENA_MAX=2
WORKDIR /srv/youthchat
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/app.lock \
 && pip install --no-cache-dir --no-deps --require-hashes -r requirements/encoder.lock
COPY . .
RUN test -f build/risk_model.npz || { echo "run make risk-model before building the image"; exit 1; }
USER 10001
EXPOSE 8000
# No access log: it would record young people's IP addresses. The client address comes from
# the load balancer's X-Forwarded-For; the app must be reachable only through it.
CMD ["uvicorn", "bot.asgi:app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log", \
     "--proxy-headers", "--forwarded-allow-ips", "*"]
