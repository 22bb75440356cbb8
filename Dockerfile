# syntax=docker/dockerfile:1
# One small image per service, plus `all` (every package: migrations of every service and
# admin creation, for docker compose's one-shot `migrate`):
#   docker build --target auth -t slate/auth:0.1.0 .
# Each image is two stages: `build-<target>` installs the packages into a virtualenv
# (/opt/venv), the final stage copies only that virtualenv onto the slim Python image and
# runs as the unprivileged user 10001, with nothing written outside /tmp (Kubernetes runs
# it with a read-only root filesystem). ffmpeg comes from the imageio-ffmpeg wheel (a
# dependency of media), so no system package is needed but auth's xmlsec1 (SAML).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- build stages -----------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build-base
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY libs/forwarded /src/libs/forwarded
COPY libs/common /src/libs/common
RUN /opt/venv/bin/pip install /src/libs/forwarded /src/libs/common

FROM build-base AS build-auth
COPY services/auth /src/services/auth
RUN /opt/venv/bin/pip install /src/services/auth

FROM build-base AS build-production
COPY services/production /src/services/production
RUN /opt/venv/bin/pip install /src/services/production

FROM build-base AS build-media
COPY services/media /src/services/media
RUN /opt/venv/bin/pip install /src/services/media

FROM build-base AS build-import-export
COPY services/import-export /src/services/import-export
RUN /opt/venv/bin/pip install /src/services/import-export

FROM build-base AS build-planning
COPY services/planning /src/services/planning
RUN /opt/venv/bin/pip install /src/services/planning

FROM build-base AS build-gateway
COPY gateway /src/gateway
RUN /opt/venv/bin/pip install /src/gateway

FROM build-base AS build-all
COPY services /src/services
COPY gateway /src/gateway
RUN /opt/venv/bin/pip install /src/services/auth /src/services/production /src/services/media \
        /src/services/import-export /src/services/planning /src/gateway

# --- runtime stages ---------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    SLATE_HOST=0.0.0.0 \
    SLATE_HOME=/var/lib/slate
RUN groupadd --system --gid 10001 slate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/slate --create-home slate
WORKDIR /var/lib/slate

FROM runtime AS auth
RUN apt-get update \
    && apt-get install -y --no-install-recommends xmlsec1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build-auth /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8101
CMD ["python", "-m", "slate_auth", "serve"]

FROM runtime AS production
COPY --from=build-production /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8102
CMD ["python", "-m", "slate_production", "serve"]

FROM runtime AS media
COPY --from=build-media /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8103
CMD ["python", "-m", "slate_media", "serve"]

FROM runtime AS import-export
COPY --from=build-import-export /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8104
CMD ["python", "-m", "slate_import_export", "serve"]

FROM runtime AS planning
COPY --from=build-planning /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8105
CMD ["python", "-m", "slate_planning", "serve"]

FROM runtime AS gateway
COPY --from=build-gateway /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8080
CMD ["python", "-m", "slate_gateway", "serve"]

FROM runtime AS all
RUN apt-get update \
    && apt-get install -y --no-install-recommends xmlsec1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build-all /opt/venv /opt/venv
USER 10001:10001
CMD ["slate", "migrate"]
