FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY schemas ./schemas
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . && useradd --system mock
USER mock
EXPOSE 8080
ENV MOCKSERVER_HOST=0.0.0.0 MOCKSERVER_PORT=8080
CMD ["mockserver", "serve"]
