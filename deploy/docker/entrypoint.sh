#!/bin/sh
# Starts the node host. The one thing it adds to the RAY_* variables: RAY_MEMORY from the pod's memory limit.
#
# Kubernetes hands the container's limits.memory in as POD_MEMORY_LIMIT (downward API, in bytes). That limit
# is the pod's memory cgroup, and it is charged for three things: the memory tasks and actors use (RAY_MEMORY,
# what the node offers the scheduler), the object store's segments in /dev/shm (a memory-backed emptyDir, so
# its pages count against the same cgroup; RAY_OBJECT_STORE_MEMORY, capped by the volume's sizeLimit), and the
# runtime itself. So RAY_MEMORY is NODE_MEMORY_PERCENT of the limit (default 60): the manifests size the
# object store at 25% of the limit, which leaves 15% for the CLR, Orleans and buffers. Set RAY_MEMORY to
# override. Without POD_MEMORY_LIMIT the node host's own default applies (70% of what the process may use).
set -eu
if [ -z "${RAY_MEMORY:-}" ] && [ -n "${POD_MEMORY_LIMIT:-}" ]; then
  percent="${NODE_MEMORY_PERCENT:-60}"
  RAY_MEMORY=$((POD_MEMORY_LIMIT / 100 * percent))
  export RAY_MEMORY
fi
# exec: the silo replaces this shell as the container's PID 1, so the kubelet's SIGTERM reaches it directly and it
# leaves the cluster cleanly (Orleans graceful shutdown) within terminationGracePeriodSeconds.
# RAYORLEANS_SILO_DLL: another build of the silo host (DeployManifestTests runs this script against the one in Silo/bin).
exec dotnet "${RAYORLEANS_SILO_DLL:-/app/silo/RayOrleans.Silo.dll}" "$@"
