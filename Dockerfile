# One image for every Virtool process (web, workers, beat, file manager); deploy/compose.yaml runs them.
# docker build -t virtool .
FROM debian:bookworm-slim

# The bioinformatics tools the workers run, and redis-tools for health checks.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv python3-dev gcc libc6-dev bowtie2 samtools skewer spades hmmer redis-tools ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/virtool
# The locked requirements first, so that a code change does not reinstall them (every package pinned and hashed).
COPY requirements.txt ./
RUN python3 -m venv .venv \
    && .venv/bin/pip install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps -r requirements.txt
COPY . .
# The Cython kernels (the quality report's counting loop; PathoScope's SAM parser and EM), compiled for this image's Python.
RUN VENV=.venv bin/build-kernels

RUN useradd --system --home-dir /data --shell /usr/sbin/nologin virtool \
    && mkdir -p /data && chown virtool:virtool /data
USER virtool
ENV PATH=/opt/virtool/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VIRTOOL_DATA_PATH=/data \
    VIRTOOL_HOST=0.0.0.0 \
    VIRTOOL_PORT=9950 \
    VIRTOOL_WEB_PROCESSES=2
VOLUME /data
EXPOSE 9950
CMD ["sh", "-c", "exec python -m virtool_site.server -b \"$VIRTOOL_HOST\" -p \"$VIRTOOL_PORT\" --proxy-headers virtool_site.asgi:application"]
