# syntax=docker/dockerfile:1
# The ede CLI in a container:
#   docker build -t ede .
#   docker run --rm -v "$PWD:/work" ede run pipeline.yaml
# Build with optional extras, e.g.: docker build --build-arg EXTRAS="[aws]" -t ede:aws .
# (the [spark] extra also needs a Java runtime, which this image does not include)

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a wheel of the package ---------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /dist .

# --- runtime: the wheel and its dependencies, run as a non-root user -----------------------
FROM ${PYTHON_IMAGE}
ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --gid 10001 ede \
 && useradd --uid 10001 --gid ede --create-home --shell /usr/sbin/nologin ede \
 && mkdir -p /work \
 && chown ede:ede /work

COPY --from=build /dist/ /tmp/dist/
RUN set -eu; wheel="$(ls /tmp/dist/*.whl)"; pip install "${wheel}${EXTRAS}"; rm -rf /tmp/dist \
 && ede --version

USER ede
WORKDIR /work
ENTRYPOINT ["ede"]
CMD ["--help"]
