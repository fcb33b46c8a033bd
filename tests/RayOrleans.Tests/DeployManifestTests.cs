using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;

namespace RayOrleans.Tests;

/// <summary>
/// The Kubernetes manifests in <c>deploy/kubernetes</c> and the image's entrypoint in <c>deploy/docker</c>:
/// every manifest loads into typed Kubernetes objects (KubernetesClient's own YAML reader), and the silo pods carry
/// what Microsoft.Orleans.Hosting.Kubernetes and the node host need. No Kubernetes cluster and no Docker run here,
/// so these check the manifests' content; the entrypoint is run for real against the silo host in Silo/bin.
/// </summary>
public sealed partial class DeployManifestTests
{
    private static readonly string RepoRoot = FindRepoRoot();
    private static readonly string ManifestDir = Path.Combine(RepoRoot, "deploy", "kubernetes");
    private static readonly string DockerDir = Path.Combine(RepoRoot, "deploy", "docker");

    [Fact]
    public void The_kustomization_lists_every_manifest_and_nothing_else()
    {
        var listed = Kustomization().Resources.Order(StringComparer.Ordinal).ToList();
        var present = Directory.GetFiles(ManifestDir, "*.yaml").Select(file => Path.GetFileName(file))
            .Where(name => name != "kustomization.yaml").Order(StringComparer.Ordinal).ToList();

        Assert.NotEmpty(present);
        Assert.Equal(present, listed);
        Assert.Equal(listed.Count, listed.Distinct().Count());
    }

    [Fact]
    public void Every_manifest_loads_into_Kubernetes_objects_with_the_kinds_a_cluster_needs()
    {
        var objects = LoadAll();

        Assert.All(objects, o => Assert.IsAssignableFrom<IKubernetesObject>(o.Object));
        Assert.Single(objects, o => o.Object is V1Namespace);
        Assert.Single(objects, o => o.Object is V1ServiceAccount);
        Assert.Single(objects, o => o.Object is V1Role);
        Assert.Single(objects, o => o.Object is V1RoleBinding);
        var deployments = Of<V1Deployment>(objects).Select(d => d.Metadata.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "rayorleans-redis", "rayorleans-head", "rayorleans-worker-cpu", "rayorleans-worker-gpu" }, deployments);
        var services = Of<V1Service>(objects).Select(s => s.Metadata.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "rayorleans-redis", "rayorleans-head" }, services);
    }

    [Fact]
    public void Every_deployment_selects_its_own_pods_and_every_service_selects_some_pods()
    {
        var objects = LoadAll();
        var templates = Of<V1Deployment>(objects).Select(d => d.Spec.Template.Metadata.Labels).ToList();
        foreach (var deployment in Of<V1Deployment>(objects))
        {
            var labels = deployment.Spec.Template.Metadata.Labels;
            Assert.All(deployment.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, labels[l.Key]));
        }

        foreach (var service in Of<V1Service>(objects))
        {
            Assert.Contains(templates, labels => service.Spec.Selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value));
            foreach (var port in service.Spec.Ports)
            {
                // A named target port must be a port of a pod the service selects.
                var pods = Of<V1Deployment>(objects).Where(d => service.Spec.Selector.All(s => d.Spec.Template.Metadata.Labels.TryGetValue(s.Key, out var v) && v == s.Value));
                Assert.All(pods, pod => Assert.Contains(pod.Spec.Template.Spec.Containers.SelectMany(c => c.Ports), p => p.Name == port.TargetPort.Value || p.ContainerPort.ToString(CultureInfo.InvariantCulture) == port.TargetPort.Value));
            }
        }
    }

    [Fact]
    public void Silo_pods_carry_the_labels_and_environment_of_Orleans_Kubernetes_hosting()
    {
        var silos = SiloDeployments(LoadAll());
        Assert.Equal(3, silos.Count); // head, CPU pool, GPU pool

        foreach (var deployment in silos)
        {
            var pod = deployment.Spec.Template;
            var env = Env(Silo(deployment));
            var serviceId = pod.Metadata.Labels["orleans/serviceId"];
            var clusterId = pod.Metadata.Labels["orleans/clusterId"];
            Assert.Equal(serviceId, env["ORLEANS_SERVICE_ID"].Value);
            Assert.Equal(clusterId, env["ORLEANS_CLUSTER_ID"].Value);
            // Orleans' ids and the node host's must agree, or Kubernetes hosting watches another cluster's pods.
            Assert.Equal(serviceId, env["RAY_SERVICE_ID"].Value);
            Assert.Equal(clusterId, env["RAY_CLUSTER_ID"].Value);
            Assert.Equal("metadata.name", env["POD_NAME"].ValueFrom.FieldRef.FieldPath);
            Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].ValueFrom.FieldRef.FieldPath);
            Assert.Equal("status.podIP", env["POD_IP"].ValueFrom.FieldRef.FieldPath);
            Assert.Equal("true", env["RAY_KUBERNETES"].Value);
        }

        // Every silo pod of the cluster shares the ids: one cluster, not three.
        Assert.Single(silos.Select(d => (d.Spec.Template.Metadata.Labels["orleans/serviceId"], d.Spec.Template.Metadata.Labels["orleans/clusterId"])).Distinct());
    }

    [Fact]
    public void Silo_pods_run_as_a_service_account_that_may_get_list_watch_patch_and_delete_pods()
    {
        var objects = LoadAll();
        var role = Assert.Single(Of<V1Role>(objects));
        var binding = Assert.Single(Of<V1RoleBinding>(objects));
        var account = Assert.Single(Of<V1ServiceAccount>(objects));

        var pods = Assert.Single(role.Rules, r => r.Resources.Contains("pods"));
        Assert.Equal([""], pods.ApiGroups);
        // What Orleans 10.4.2's Kubernetes hosting calls: watch/list/read pods, patch its own labels, delete defunct silos' pods.
        Assert.Superset(new HashSet<string> { "get", "list", "watch", "patch", "delete" }, pods.Verbs.ToHashSet());
        Assert.Equal(("Role", role.Metadata.Name), (binding.RoleRef.Kind, binding.RoleRef.Name));
        Assert.Contains(binding.Subjects, s => s.Kind == "ServiceAccount" && s.Name == account.Metadata.Name);
        Assert.All(SiloDeployments(objects), d => Assert.Equal(account.Metadata.Name, d.Spec.Template.Spec.ServiceAccountName));
    }

    [Fact]
    public void Silo_pods_listen_on_every_interface_advertise_the_pod_IP_and_join_through_Redis()
    {
        var objects = LoadAll();
        var services = Of<V1Service>(objects).ToDictionary(s => s.Metadata.Name);
        foreach (var deployment in SiloDeployments(objects))
        {
            var silo = Silo(deployment);
            var env = Env(silo);
            Assert.Equal("redis", env["RAY_CLUSTERING"].Value);
            var redis = env["RAY_REDIS"].Value.Split(',')[0].Split(':');
            Assert.True(services.TryGetValue(redis[0], out var redisService), $"RAY_REDIS names {redis[0]}, which no manifest defines.");
            Assert.Contains(redisService.Spec.Ports, p => p.Port.ToString(CultureInfo.InvariantCulture) == redis[1]);

            Assert.Equal("0.0.0.0", env["RAY_LISTEN_IP"].Value);
            Assert.Equal("0.0.0.0", env["RAY_HTTP_LISTEN_IP"].Value); // else the kubelet's probes cannot reach /healthz
            Assert.Equal("status.podIP", env["RAY_ADVERTISED_IP"].ValueFrom.FieldRef.FieldPath);

            // The container ports are the ports the node host listens on.
            var ports = silo.Ports.ToDictionary(p => p.Name, p => p.ContainerPort.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(env["RAY_SILO_PORT"].Value, ports["silo"]);
            Assert.Equal(env["RAY_GATEWAY_PORT"].Value, ports["gateway"]);
            Assert.Equal(env["RAY_HTTP_PORT"].Value, ports["http"]);
        }
    }

    [Fact]
    public void Silo_pods_are_probed_on_healthz_and_get_time_to_leave_the_cluster()
    {
        foreach (var deployment in SiloDeployments(LoadAll()))
        {
            var silo = Silo(deployment);
            var http = Assert.Single(silo.Ports, p => p.Name == "http").ContainerPort;
            foreach (var probe in new[] { silo.ReadinessProbe, silo.LivenessProbe, silo.StartupProbe })
            {
                Assert.NotNull(probe);
                Assert.Equal("/healthz", probe.HttpGet.Path);
                Assert.True(probe.HttpGet.Port.Value == "http" || probe.HttpGet.Port.Value == http.ToString(CultureInfo.InvariantCulture));
            }

            // A liveness failure restarts the silo: it must be slower to fire than readiness.
            Assert.True(silo.LivenessProbe.PeriodSeconds * silo.LivenessProbe.FailureThreshold > silo.ReadinessProbe.PeriodSeconds * silo.ReadinessProbe.FailureThreshold);
            Assert.InRange(deployment.Spec.Template.Spec.TerminationGracePeriodSeconds ?? 30, 30, 300);
            Assert.True(deployment.Spec.Template.Spec.SecurityContext.RunAsNonRoot);
            Assert.False(silo.SecurityContext.AllowPrivilegeEscalation);
        }
    }

    [Fact]
    public void The_object_store_lives_in_a_memory_backed_dev_shm_as_large_as_the_store()
    {
        foreach (var deployment in SiloDeployments(LoadAll()))
        {
            var silo = Silo(deployment);
            var env = Env(silo);
            var mount = Assert.Single(silo.VolumeMounts, m => m.MountPath == "/dev/shm");
            var volume = Assert.Single(deployment.Spec.Template.Spec.Volumes, v => v.Name == mount.Name);
            Assert.Equal("Memory", volume.EmptyDir.Medium);
            Assert.NotNull(volume.EmptyDir.SizeLimit);
            Assert.StartsWith("/dev/shm/", env["RAY_OBJECT_STORE_DIR"].Value, StringComparison.Ordinal);
            var store = long.Parse(env["RAY_OBJECT_STORE_MEMORY"].Value, CultureInfo.InvariantCulture);
            Assert.InRange(store, 1, volume.EmptyDir.SizeLimit.ToInt64());
        }
    }

    [Fact]
    public void Node_resources_come_from_the_pod_limits_and_fit_in_them()
    {
        var silos = SiloDeployments(LoadAll());
        foreach (var deployment in silos)
        {
            var silo = Silo(deployment);
            var env = Env(silo);
            var cpus = env["RAY_NUM_CPUS"].ValueFrom.ResourceFieldRef;
            Assert.Equal(("silo", "limits.cpu"), (cpus.ContainerName, cpus.Resource));
            var memory = env["POD_MEMORY_LIMIT"].ValueFrom.ResourceFieldRef;
            Assert.Equal(("silo", "limits.memory"), (memory.ContainerName, memory.Resource));
            Assert.Equal(1, (memory.Divisor ?? new ResourceQuantity("1")).ToInt64()); // the entrypoint takes bytes
            Assert.False(env.ContainsKey("RAY_MEMORY")); // else the entrypoint's share of the limit is bypassed

            // Tasks' memory, the object store (its /dev/shm pages are charged to the pod) and at least 10% for the
            // runtime must fit in the memory limit, or the kernel kills the silo before the scheduler says no.
            var limit = silo.Resources.Limits["memory"].ToInt64();
            var percent = long.Parse(env["NODE_MEMORY_PERCENT"].Value, CultureInfo.InvariantCulture);
            var store = long.Parse(env["RAY_OBJECT_STORE_MEMORY"].Value, CultureInfo.InvariantCulture);
            Assert.True(limit / 100 * percent + store <= limit * 9 / 10, $"{deployment.Metadata.Name}: {percent}% of {limit} plus a {store}-byte store leave under 10% for the runtime.");
            Assert.True(silo.Resources.Limits.ContainsKey("cpu"));
        }

        // A CPU pool without GPUs, a GPU pool whose node offers exactly the GPUs the pod gets.
        Assert.Contains(silos, d => d.Metadata.Name.Contains("cpu", StringComparison.Ordinal) && !Silo(d).Resources.Limits.ContainsKey("nvidia.com/gpu"));
        var gpu = Assert.Single(silos, d => Silo(d).Resources.Limits.ContainsKey("nvidia.com/gpu"));
        Assert.Equal(Silo(gpu).Resources.Limits["nvidia.com/gpu"].ToInt64().ToString(CultureInfo.InvariantCulture), Env(Silo(gpu))["RAY_NUM_GPUS"].Value);
        Assert.All(silos.Where(d => d != gpu), d => Assert.False(Env(Silo(d)).ContainsKey("RAY_NUM_GPUS")));
    }

    [Fact]
    public async Task Every_RAY_variable_in_the_manifests_and_the_image_is_a_switch_of_the_node_host()
    {
        var usage = await RunAsync(SiloDll(), ["--help"], new Dictionary<string, string>(), TimeSpan.FromSeconds(60));
        var switches = RayVariable().Matches(usage).Select(m => m.Value).ToHashSet();
        Assert.Contains("RAY_NUM_CPUS", switches); // the usage text still lists the variables

        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var deployment in Of<V1Deployment>(LoadAll()))
        {
            used.UnionWith(deployment.Spec.Template.Spec.Containers.SelectMany(c => c.Env ?? []).Select(e => e.Name).Where(n => n.StartsWith("RAY_", StringComparison.Ordinal)));
        }

        foreach (var file in new[] { "Dockerfile", "entrypoint.sh" })
        {
            used.UnionWith(RayVariable().Matches(await File.ReadAllTextAsync(Path.Combine(DockerDir, file))).Select(m => m.Value));
        }

        Assert.Contains("RAY_CLUSTERING", used);
        var unknown = used.Where(name => !switches.Contains(name)).ToList();
        Assert.True(unknown.Count == 0, $"not switches of the node host (RayOrleans.Silo --help): {string.Join(", ", unknown)}");
    }

    [Fact]
    public async Task The_entrypoint_offers_its_share_of_the_pod_memory_limit_and_the_silo_exits_cleanly_on_SIGTERM()
    {
        // The CPU pool's own values for what shapes the node, so the real silo host parses them (a bad RAY_LABELS
        // or size fails its start); the network and membership ones are a pod's, replaced by local ones.
        var pod = Env(Silo(SiloDeployments(LoadAll()).Single(d => d.Metadata.Name == "rayorleans-worker-cpu")));
        var percent = long.Parse(pod["NODE_MEMORY_PERCENT"].Value, CultureInfo.InvariantCulture);
        const long limit = 4L * 1024 * 1024 * 1024;
        var environment = new Dictionary<string, string>
        {
            ["RAYORLEANS_SILO_DLL"] = SiloDll(),
            ["POD_MEMORY_LIMIT"] = limit.ToString(CultureInfo.InvariantCulture),
            ["NODE_MEMORY_PERCENT"] = pod["NODE_MEMORY_PERCENT"].Value,
            ["RAY_LABELS"] = pod["RAY_LABELS"].Value,
            ["RAY_SERVICE_ID"] = pod["RAY_SERVICE_ID"].Value,
            ["RAY_OBJECT_STORE_MEMORY"] = pod["RAY_OBJECT_STORE_MEMORY"].Value,
            ["RAY_NUM_CPUS"] = "2",
            ["RAY_CLUSTER_ID"] = $"deploy-{Guid.NewGuid():N}",
            ["RAY_SILO_PORT"] = FreePort(),
            ["RAY_GATEWAY_PORT"] = FreePort(),
            ["RAY_HTTP_PORT"] = FreePort(),
            ["RAY_OBJECT_STORE_DIR"] = Path.Combine(Path.GetTempPath(), $"rayorleans-deploy-{Guid.NewGuid():N}"),
            ["RAY_ORLEANS_DASHBOARD"] = "false",
        };

        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(DockerDir, "entrypoint.sh"));
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var output = new System.Text.StringBuilder();
        var started = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains(" started: ", StringComparison.Ordinal) == true)
            {
                started.TrySetResult(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Exited += (_, _) => started.TrySetException(new InvalidOperationException($"the node exited with {process.ExitCode}"));
        process.EnableRaisingEvents = true;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // exec: the shell became the silo, so the started line and the exit code come from the process we started.
            string line;
            try
            {
                line = await started.Task.WaitAsync(TimeSpan.FromSeconds(90));
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"the node did not start ({e.Message}):\n{Text(output)}");
            }

            var offered = long.Parse(NodeMemory().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.Equal(limit / 100 * percent, offered);

            Signal(process.Id, "TERM");
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode} after SIGTERM:\n{Text(output)}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            if (Directory.Exists(environment["RAY_OBJECT_STORE_DIR"]))
            {
                Directory.Delete(environment["RAY_OBJECT_STORE_DIR"], recursive: true);
            }
        }
    }

    private static string Text(System.Text.StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    [Fact]
    public void The_image_builds_on_the_SDK_runs_on_ASP_NET_as_non_root_and_restores_every_project_rayo_needs()
    {
        var lines = File.ReadAllLines(Path.Combine(DockerDir, "Dockerfile"));
        var args = lines.Where(l => l.StartsWith("ARG ", StringComparison.Ordinal)).Select(l => l[4..].Split('=', 2))
            .Where(a => a.Length == 2).ToDictionary(a => a[0], a => a[1]);
        var stages = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal))
            .Select(l => Regex.Replace(l.Split(' ')[1], @"\$\{(\w+)\}", m => args[m.Groups[1].Value])).ToList();
        Assert.Equal(2, stages.Count);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.", stages[0], StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.", stages[1], StringComparison.Ordinal);

        // The last USER is the one the container runs as: the images' non-root app user.
        Assert.Equal("USER $APP_UID", lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal)));
        Assert.Equal("ENTRYPOINT [\"/app/entrypoint.sh\"]", lines.Last(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));
        Assert.Contains("exec dotnet", File.ReadAllText(Path.Combine(DockerDir, "entrypoint.sh")), StringComparison.Ordinal);

        // The restore layer copies project files only: each project rayo builds must be among them, or restore fails.
        var copied = lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && l.Contains(".csproj", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[1].Split('/')[0]).ToHashSet();
        var needed = new HashSet<string>();
        var pending = new Stack<string>([Path.Combine(RepoRoot, "Cli", "Cli.csproj")]);
        while (pending.TryPop(out var project))
        {
            if (!needed.Add(Path.GetFileName(Path.GetDirectoryName(project)!)))
            {
                continue;
            }

            foreach (var reference in System.Xml.Linq.XDocument.Load(project).Descendants("ProjectReference"))
            {
                var path = reference.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar);
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, path)));
            }
        }

        Assert.Superset(new HashSet<string> { "Cli", "Silo" }, needed);
        Assert.Subset(copied, needed);
    }

    [GeneratedRegex(@"\bRAY_[A-Z0-9_]+")]
    private static partial Regex RayVariable();

    [GeneratedRegex(@"[{ ]memory: (\d+)")]
    private static partial Regex NodeMemory();

    private sealed record Manifest(string File, object Object);

    /// <summary>The shape of kustomization.yaml this test reads (KubernetesYaml skips the other fields).</summary>
    private sealed class KustomizationFile
    {
        public List<string> Resources { get; set; } = [];
    }

    private static KustomizationFile Kustomization() =>
        KubernetesYaml.Deserialize<KustomizationFile>(File.ReadAllText(Path.Combine(ManifestDir, "kustomization.yaml")));

    /// <summary>Every object of every file the kustomization lists; a file that does not parse fails here.</summary>
    private static List<Manifest> LoadAll() =>
        Kustomization().Resources
            .SelectMany(file => KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(ManifestDir, file))).Select(o => new Manifest(file, o)))
            .ToList();

    private static IEnumerable<T> Of<T>(IEnumerable<Manifest> objects) => objects.Select(o => o.Object).OfType<T>();

    /// <summary>Deployments whose pods run the node image (a container named silo).</summary>
    private static List<V1Deployment> SiloDeployments(IEnumerable<Manifest> objects) =>
        Of<V1Deployment>(objects).Where(d => d.Spec.Template.Spec.Containers.Any(c => c.Name == "silo")).ToList();

    private static V1Container Silo(V1Deployment deployment) => deployment.Spec.Template.Spec.Containers.Single(c => c.Name == "silo");

    private static Dictionary<string, V1EnvVar> Env(V1Container container) => container.Env.ToDictionary(e => e.Name);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RayOrleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no RayOrleans.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The silo host of this build's configuration (the test project builds Silo/ first).</summary>
    private static string SiloDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(RepoRoot, "Silo", "bin", here.Parent!.Name, here.Name, "RayOrleans.Silo.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"the silo host is not built at {path}: dotnet build Silo -c {here.Parent.Name}.");
    }

    private static async Task<string> RunAsync(string dll, string[] args, Dictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(timeout).Token);
        Assert.True(process.ExitCode == 0, $"{dll} {string.Join(' ', args)} exited with {process.ExitCode}: {await error}");
        return await output;
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static string FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
    }
}
