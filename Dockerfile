# etcdgw: build with the dev dependencies, run on the production ones only.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY pki ./pki
COPY test ./test
COPY bench ./bench
COPY ui ./ui
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/pki ./dist/pki
# the web console, served at /ui/
COPY --from=build /src/dist/ui ./dist/ui
# etcd's .proto files are read from the source tree at run time (remote backend, HTTP codec)
COPY src/proto ./src/proto
RUN ln -s /app/dist/src/main.js /usr/local/bin/etcdgw && chmod +x /app/dist/src/main.js
USER node
EXPOSE 2379
ENTRYPOINT ["etcdgw"]
CMD ["serve", "--listen-client-urls", "http://0.0.0.0:2379", "--data-dir", "/data"]
