# syntax=docker/dockerfile:1
# One image target per service, plus `all` (every package: migrations, admin creation).
#   docker build --target auth -t slate/auth .
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SLATE_HOST=0.0.0.0 \
    SLATE_HOME=/var/lib/slate
WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /var/lib/slate --create-home slate
# One lock for every image (requirements.lock, `make lock`): each image installs its subset
# at exactly the versions the suite was tested with.
COPY requirements.lock /app/requirements.lock
ENV PIP_CONSTRAINT=/app/requirements.lock
COPY libs/common /app/libs/common
RUN pip install /app/libs/common

FROM base AS auth
RUN apt-get update \
    && apt-get install -y --no-install-recommends xmlsec1 \
    && rm -rf /var/lib/apt/lists/*
COPY services/auth /app/services/auth
RUN pip install /app/services/auth
USER slate
EXPOSE 8101
CMD ["python", "-m", "slate_auth", "serve"]

FROM base AS production
COPY services/production /app/services/production
RUN pip install /app/services/production
USER slate
EXPOSE 8102
CMD ["python", "-m", "slate_production", "serve"]

FROM base AS media
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*
COPY services/media /app/services/media
RUN pip install /app/services/media
USER slate
EXPOSE 8103
CMD ["python", "-m", "slate_media", "serve"]

FROM base AS import-export
COPY services/import-export /app/services/import-export
RUN pip install /app/services/import-export
USER slate
EXPOSE 8104
CMD ["python", "-m", "slate_import_export", "serve"]

FROM base AS planning
COPY services/planning /app/services/planning
RUN pip install /app/services/planning
USER slate
EXPOSE 8105
CMD ["python", "-m", "slate_planning", "serve"]

FROM base AS gateway
COPY gateway /app/gateway
RUN pip install /app/gateway
USER slate
EXPOSE 8080
CMD ["python", "-m", "slate_gateway", "serve"]

FROM base AS all
COPY services /app/services
COPY gateway /app/gateway
RUN pip install /app/services/auth /app/services/production /app/services/media \
        /app/services/import-export /app/services/planning /app/gateway
USER slate
CMD ["slate", "migrate"]
