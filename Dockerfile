# syntax=docker/dockerfile:1
# The bootstrap-bot image: `docker build -t bootstrap-bot .`, run as `bootstrap-bot serve`.
# The base is pinned to a Python release; pin it by digest as well for reproducible builds:
#   docker build --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md app-manifest.yml ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY deploy/image/install.sh deploy/image/
RUN ["sh", "deploy/image/install.sh", "/opt/bootstrap-bot"]

FROM ${PYTHON_IMAGE}
# skopeo copies OCI artifacts for `ocm transfer` and `bot.mirror` (Debian's, no recommends).
RUN ["sh", "-c", "apt-get update && apt-get install -y --no-install-recommends skopeo && rm -rf /var/lib/apt/lists/*"]
COPY --from=build /opt/bootstrap-bot /opt/bootstrap-bot
# The root filesystem can be read-only: the bot writes only to its cache and to /tmp (volumes).
RUN ["install", "-d", "-o", "10001", "-g", "10001", "-m", "0750", "/var/cache/bootstrap-bot"]
ENV PATH=/opt/bootstrap-bot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    BOOTSTRAP_BOT_CACHE_DIR=/var/cache/bootstrap-bot
VOLUME ["/var/cache/bootstrap-bot", "/tmp"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["bootstrap-bot", "healthcheck"]
ENTRYPOINT ["bootstrap-bot"]
CMD ["serve"]
