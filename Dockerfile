# MeshChain node image: multi-stage, runs as a non-root user, state in a volume; builds on
# linux/amd64 and linux/arm64 (a Raspberry Pi 4/5 with a 64-bit OS):
#   docker build -t meshchain .
#   docker run -d --name meshchain -v meshchain-data:/data -p 127.0.0.1:8645:8645 -p 1883:1883 \
#     -e MESHCHAIN_KEY_PASSPHRASE_FILE=/run/secrets/passphrase -v /etc/meshchain/passphrase:/run/secrets/passphrase:ro \
#     meshchain start --config /data/meshchain.toml
# First time: docker run --rm -it -v meshchain-data:/data meshchain init --data-dir /data/node --chain-id ID
# (then point the config at /data/node). A USB radio: add --device /dev/ttyACM0 --group-add dialout.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 uses its prebuilt binary when one fits; these build it where none does.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# npm ci runs the package's prepare script, which builds dist/: the sources come first.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci && test -f dist/cli/main.js && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY config ./config
RUN ln -s /app/dist/cli/main.js /usr/local/bin/meshchain && chmod +x /app/dist/cli/main.js \
  && groupadd --system meshchain && useradd --system --gid meshchain --groups dialout --home-dir /data --shell /usr/sbin/nologin meshchain \
  && mkdir -p /data && chown meshchain:meshchain /data && chmod 0700 /data
USER meshchain
VOLUME ["/data"]
# Local API (keep it on loopback: -p 127.0.0.1:8645:8645) and the embedded broker.
EXPOSE 8645 1883
ENTRYPOINT ["meshchain"]
CMD ["start", "--config", "/data/meshchain.toml"]
