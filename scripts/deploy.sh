#!/usr/bin/env bash
# Roll the services of one environment (staging|production) to the images tagged $TAG.
# Rolling updates keep every ready replica until its replacement is ready (maxUnavailable
# 0), so the API never stops; models are pulled from the registry, not from the image.
set -euo pipefail
environment="${1:?usage: deploy.sh staging|production}"
: "${KUBECONFIG_DATA:?KUBECONFIG_DATA (the cluster credentials) is required}"
: "${TAG:?TAG is required}"
: "${OWNER:?OWNER is required}"
kubeconfig="$(mktemp)"
trap 'rm -f "$kubeconfig"' EXIT
printf '%s' "$KUBECONFIG_DATA" > "$kubeconfig"
export KUBECONFIG="$kubeconfig"
echo "deploying tabship $TAG to $environment"
kubectl apply -f deploy/k8s/
kubectl -n tabship set image deployment/features "features=ghcr.io/$OWNER/tabship-serve:$TAG"
kubectl -n tabship set image deployment/predictions \
  "predictions=ghcr.io/$OWNER/tabship-serve-explain:$TAG"
kubectl -n tabship set image deployment/dashboard "dashboard=ghcr.io/$OWNER/tabship-dashboard:$TAG"
kubectl -n tabship set image deployment/mlflow "mlflow=ghcr.io/$OWNER/tabship-pipeline:$TAG"
for app in mlflow features predictions dashboard; do
  kubectl -n tabship rollout status "deployment/$app" --timeout=10m
done
