# gpux serve, CPU image. Build: docker build -t gpux .   Run: docker run -p 8080:8080 -v $PWD/model:/mnt/models gpux
# The CUDA variant is described in docs/guides/deployment.md (same steps on an nvidia/cuda base).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# `prepare` builds dist/; onnxruntime-node's CPU build ships in the package, so its install script (which npm 10,
# the one in this image, runs) is told to skip the CUDA download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY examples ./examples
USER node
EXPOSE 8080
# Probes: /v2/health/live and /v2/health/ready (KServe), or /health.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:8080/v2/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
# In a container the port must be reachable from outside it; set --api-key (or GPUX_API_KEY) when exposed.
CMD ["serve", "/mnt/models", "--host", "0.0.0.0", "--port", "8080"]
