FROM python:3.11-slim

WORKDIR /app
# dependencies first, pinned by constraints.txt, so a code change reuses this layer
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY mockserver ./mockserver
COPY schemas ./schemas
COPY fixtures ./fixtures
# the default seed's words and names drawn once here: each start then reads them (--cache-dir)
RUN pip install --no-cache-dir --constraint constraints.txt . \
    && MOCKSERVER_CACHE_DIR=/app/cache python -c "from mockserver.app import create_app; from mockserver.settings import Settings; create_app(Settings.load({}))" \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin mock \
    && mkdir /data \
    && chown mock:mock /data

# A writable place for --store: `-v mockdata:/data -e MOCKSERVER_STORE=/data/state.db`
VOLUME /data
USER 10001:10001
# (the mock user: numeric, so Kubernetes runAsNonRoot can verify it)
EXPOSE 8080
ENV MOCKSERVER_HOST=0.0.0.0 MOCKSERVER_PORT=8080 MOCKSERVER_CACHE_DIR=/app/cache \
    PYTHONUNBUFFERED=1

# the image's own Python: no curl or wget in a slim image
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('MOCKSERVER_PORT', '8080') + '/__mock/health', timeout=2)"]

CMD ["mockserver", "serve"]
