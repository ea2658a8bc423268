# kubectl-kubefed's controller image (charts/kubefed runs it).
#
#   docker build -t kubectl-kubefed .
#
# Two stages: wheels are built in the first, only they are installed in the second (no
# compiler, no build cache, no source tree). The image runs as a non-root numeric user and
# works on a read-only root filesystem: nothing is written outside /tmp (no .pyc files,
# HOME=/tmp for the kubernetes client's temporary files). tests/unit/test_deploy.py
# checks these properties; this machine has no Docker engine to build it.

FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY kubectl_kubefed ./kubectl_kubefed
COPY simulator ./simulator
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
COPY --from=build /wheels /wheels
RUN pip install --no-compile /wheels/*.whl && rm -rf /wheels
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080 8081
ENTRYPOINT ["kubectl-kubefed"]
CMD ["controller"]
