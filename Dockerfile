# kure-fn container image: the KRM function as ENTRYPOINT, run by kpt and
# kustomize as `nobody` with no network (docs/running.md).
#
# BASE is any Debian-based image with python3 and the venv module; the build
# and the final stage use the same one, because the venv links to its Python.
# CI builds from a locally made base: --build-arg BASE=localhost/kure-fn-base.
ARG BASE=docker.io/library/python:3.11-slim-bookworm

FROM ${BASE} AS build
COPY . /src/
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-compile -c /src/constraints.txt /src \
 && /opt/venv/bin/pip uninstall --yes --disable-pip-version-check pip setuptools \
 && python3 -m compileall -q /opt/venv

FROM ${BASE}
LABEL org.opencontainers.image.title="kure-fn" \
      org.opencontainers.image.description="KRM function: a compact Cluster config to a Flux GitOps repository tree" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    PATH=/opt/venv/bin:$PATH
COPY --from=build /opt/venv /opt/venv
USER 65534:65534
ENTRYPOINT ["/opt/venv/bin/kure-fn"]
