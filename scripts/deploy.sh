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
for app in features predictions; do
  kubectl -n tabship set image "deployment/$app" "$app=ghcr.io/$OWNER/tabship-serve:$TAG"
done
kubectl -n tabship set image deployment/mlflow "mlflow=ghcr.io/$OWNER/tabship-pipeline:$TAG"
for app in mlflow features predictions; do
  kubectl -n tabship rollout status "deployment/$app" --timeout=10m
done
