using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Tests.Fixtures;

namespace RayOrleans.Tests;

/// <summary>
/// Job submission against a real head: a silo host process with Redis membership, its HTTP job API, and
/// <c>samples/JobDriver</c> uploaded as a package and run as the drivers, which join the cluster through the
/// <c>RAY_ADDRESS</c> the head gives them.
/// </summary>
public sealed class JobSubmissionTests(JobSubmissionTests.Head head) : IClassFixture<JobSubmissionTests.Head>
{
    private static readonly TimeSpan JobDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_driver_runs_in_its_package_joins_the_cluster_and_succeeds()
    {
        var id = await head.SubmitAsync(new
        {
            entrypoint = new[] { "dotnet", "JobDriver.dll", "0" },
            workingDir = head.DriverPackage,
            env = new Dictionary<string, string> { ["GREETING"] = "hello from the job" },
            metadata = new Dictionary<string, string> { ["owner"] = "tests" },
        });
        Assert.StartsWith("raysubmit_", id);

        var (logs, status) = await head.FollowLogsAsync(id);
        Assert.Equal("SUCCEEDED", status);
        Assert.Contains($"job {id} driver", logs);
        Assert.Contains($"from {Path.Combine(head.Cluster.JobsDirectory, head.HttpPort.ToString(), "packages", head.DriverPackage)}", logs);
        Assert.Contains("greeting: hello from the job", logs);
        Assert.Contains("nodes: 1", logs);
        Assert.Contains("put/get: 42", logs);
        Assert.Contains("exiting with code 0", logs);

        var job = await head.GetJobAsync(id);
        Assert.Equal("SUCCEEDED", job.GetProperty("status").GetString());
        Assert.Equal(0, job.GetProperty("exitCode").GetInt32());
        Assert.True(job.GetProperty("driverPid").GetInt32() > 0);
        Assert.Equal(head.DriverPackage, job.GetProperty("workingDir").GetString());
        Assert.Equal("tests", job.GetProperty("metadata").GetProperty("owner").GetString());
        Assert.Equal(["dotnet", "JobDriver.dll", "0"], job.GetProperty("entrypoint").EnumerateArray().Select(e => e.GetString()));
        Assert.True(job.GetProperty("endTime").GetDateTimeOffset() >= job.GetProperty("startTime").GetDateTimeOffset());

        // Reading from an offset returns the rest of the same bytes; the list has the job.
        var all = Encoding.UTF8.GetBytes(logs);
        using var tail = await head.Http.GetAsync($"/api/jobs/{id}/logs?offset=10");
        Assert.Equal(all[10..], await tail.Content.ReadAsByteArrayAsync());
        Assert.Equal(all.Length.ToString(), tail.Headers.GetValues("X-Log-Offset").Single());
        var list = await head.Http.GetFromJsonAsync<JsonElement>("/api/jobs");
        Assert.Contains(list.EnumerateArray(), j => j.GetProperty("submissionId").GetString() == id);
    }

    [Fact]
    public async Task A_failing_driver_is_FAILED_with_its_exit_code_and_a_missing_program_says_why()
    {
        // No working dir: the driver runs from the head's own folder, so its path is given in full.
        var id = await head.SubmitAsync(new { entrypoint = new[] { "dotnet", Path.Combine(Head.DriverFolder(), "JobDriver.dll"), "3" } });
        var (logs, status) = await head.FollowLogsAsync(id);
        Assert.Equal("FAILED", status);
        Assert.Contains("put/get: 42", logs);
        Assert.Contains("exiting with code 3", logs);
        var job = await head.GetJobAsync(id);
        Assert.Equal(3, job.GetProperty("exitCode").GetInt32());
        Assert.Contains("code 3", job.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("workingDir").ValueKind);

        var missing = await head.SubmitAsync(new { entrypoint = new[] { "no-such-driver-program", "x" } });
        var (missingLogs, missingStatus) = await head.FollowLogsAsync(missing);
        Assert.Equal("FAILED", missingStatus);
        var failed = await head.GetJobAsync(missing);
        Assert.Contains("'no-such-driver-program' was not found", failed.GetProperty("message").GetString());
        Assert.Contains("'no-such-driver-program' was not found", missingLogs);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("exitCode").ValueKind);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("driverPid").ValueKind);
    }

    [Fact]
    public async Task Stopping_a_job_ends_its_driver_and_the_process_the_driver_started()
    {
        var id = await head.SubmitAsync(new { entrypoint = new[] { "dotnet", "JobDriver.dll", "forever", "child" }, workingDir = head.DriverPackage });
        var running = await head.FollowLogsUntilAsync(id, "running until stopped");
        var childPid = int.Parse(running.Split('\n').Single(l => l.StartsWith("child pid: ", StringComparison.Ordinal))["child pid: ".Length..]);
        var job = await head.GetJobAsync(id);
        Assert.Equal("RUNNING", job.GetProperty("status").GetString());
        var driverPid = job.GetProperty("driverPid").GetInt32();
        Assert.True(Head.IsRunning(driverPid) && Head.IsRunning(childPid));

        Assert.True(await head.StopAsync(id));
        var (logs, status) = await head.FollowLogsAsync(id);
        Assert.Equal("STOPPED", status);
        Assert.Contains("SIGTERM: stopping", logs); // it was asked first, and had time to exit cleanly
        Assert.Equal(143, (await head.GetJobAsync(id)).GetProperty("exitCode").GetInt32());
        await Wait.UntilAsync(() => !Head.IsRunning(driverPid) && !Head.IsRunning(childPid), "the driver and its child are gone");
        Assert.False(await head.StopAsync(id)); // already terminal
    }

    [Fact]
    public async Task A_driver_that_ignores_SIGTERM_is_killed_after_the_grace_period()
    {
        var id = await head.SubmitAsync(new { entrypoint = new[] { "dotnet", "JobDriver.dll", "forever", "ignore-sigterm" }, workingDir = head.DriverPackage });
        await head.FollowLogsUntilAsync(id, "running until stopped");
        var driverPid = (await head.GetJobAsync(id)).GetProperty("driverPid").GetInt32();

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await head.StopAsync(id));
        Assert.True(stopping.Elapsed >= TimeSpan.FromSeconds(Head.GraceSeconds) - TimeSpan.FromMilliseconds(100), $"SIGKILL came after {stopping.Elapsed}, before the grace period");
        var (logs, status) = await head.FollowLogsAsync(id);
        Assert.Equal("STOPPED", status);
        Assert.Contains("SIGTERM ignored", logs);
        Assert.Equal(137, (await head.GetJobAsync(id)).GetProperty("exitCode").GetInt32()); // 128 + SIGKILL
        await Wait.UntilAsync(() => !Head.IsRunning(driverPid), "the driver is gone");
    }

    [Fact]
    public async Task A_package_is_stored_once_by_its_hash_and_served_back()
    {
        var zip = Head.Zip(("hello.txt", $"package {Guid.NewGuid()}"), ("sub/run.sh", "#!/bin/sh\necho ran\n"));
        var hash = Head.Sha256(zip);
        Assert.Equal(HttpStatusCode.NotFound, await head.HeadPackageAsync(hash));
        Assert.Equal(HttpStatusCode.Created, (await head.PutPackageAsync(hash, zip)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await head.HeadPackageAsync(hash));
        using var again = await head.PutPackageAsync(hash, zip);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cached").GetBoolean());
        Assert.Equal(zip, await head.Http.GetByteArrayAsync($"/api/packages/{hash}"));

        // A job runs in the unpacked folder, where the zip's Unix permissions kept the script executable.
        var id = await head.SubmitAsync(new { entrypoint = new[] { "./sub/run.sh" }, workingDir = hash });
        var (logs, status) = await head.FollowLogsAsync(id);
        Assert.Equal("SUCCEEDED", status);
        Assert.Equal("ran\n", logs);
    }

    [Fact]
    public async Task Bad_requests_get_400_with_a_message_and_unknown_jobs_404()
    {
        // A body that does not match the hash in the URL is not stored.
        var zip = Head.Zip(("a.txt", $"a {Guid.NewGuid()}"));
        var wrong = Head.Sha256(Head.Zip(("b.txt", "b")));
        await AssertBadRequest(await head.PutPackageAsync(wrong, zip), "SHA-256");
        Assert.Equal(HttpStatusCode.NotFound, await head.HeadPackageAsync(wrong));
        await AssertBadRequest(await head.PutPackageAsync("not-a-hash", zip), "not a SHA-256");

        // Zip-slip: an entry that climbs out of its folder rejects the whole package, and nothing is written.
        var escapee = $"escaped-{Guid.NewGuid():N}.txt";
        var slip = Head.Zip(("ok.txt", "fine"), ($"../../{escapee}", "should not land anywhere"));
        var slipHash = Head.Sha256(slip);
        await AssertBadRequest(await head.PutPackageAsync(slipHash, slip), "outside the package's folder");
        Assert.Equal(HttpStatusCode.NotFound, await head.HeadPackageAsync(slipHash));
        Assert.Empty(Directory.EnumerateFiles(head.Cluster.JobsDirectory, escapee, SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.GetTempPath(), escapee));
        var absolute = Head.Zip(($"/tmp/{escapee}", "absolute"));
        await AssertBadRequest(await head.PutPackageAsync(Head.Sha256(absolute), absolute), "outside the package's folder");
        Assert.False(File.Exists($"/tmp/{escapee}"));
        var notZip = Encoding.UTF8.GetBytes("not a zip at all");
        await AssertBadRequest(await head.PutPackageAsync(Head.Sha256(notZip), notZip), "not a zip");

        // Over the head's limits (--max-package-size, --max-unpacked-package-size): 413, nothing stored.
        var big = RandomNumberGenerator.GetBytes(Head.MaxPackageBytes + 1);
        await AssertStatus(await head.PutPackageAsync(Head.Sha256(big), big), HttpStatusCode.RequestEntityTooLarge, "--max-package-size");
        var bomb = Head.Zip(("zeros.bin", new string('\0', Head.MaxUnpackedBytes + 1)));
        Assert.True(bomb.Length < Head.MaxPackageBytes / 100);
        await AssertStatus(await head.PutPackageAsync(Head.Sha256(bomb), bomb), HttpStatusCode.RequestEntityTooLarge, "--max-unpacked-package-size");
        Assert.Equal(HttpStatusCode.NotFound, await head.HeadPackageAsync(Head.Sha256(bomb)));

        await AssertBadRequest(await head.PostJobAsync(new { entrypoint = Array.Empty<string>() }), "entrypoint");
        await AssertBadRequest(await head.PostJobAsync(new { workingDir = head.DriverPackage }), "entrypoint");
        await AssertBadRequest(await head.PostJobAsync(new { entrypoint = new[] { "dotnet" }, workingDir = wrong }), "does not have");
        await AssertBadRequest(await head.PostJobAsync(new { entrypoint = new[] { "dotnet" }, workingDir = "../etc" }), "is not a package's SHA-256");
        await AssertBadRequest(await head.PostJobAsync(new { entrypoint = new[] { "dotnet" }, env = new Dictionary<string, string> { ["A=B"] = "c" } }), "not an environment variable name");
        await AssertBadRequest(await head.PostJobAsync(new { entrypoint = new[] { "dotnet" }, submissionId = "../x" }), "submissionId");
        await AssertBadRequest(await head.PostJobAsync(new { entrypoint = new[] { "dotnet" }, working_dir = head.DriverPackage }), "working_dir");
        using (var malformed = await head.Http.PostAsync("/api/jobs", new StringContent("{\"entrypoint\": ", Encoding.UTF8, "application/json")))
        {
            await AssertBadRequest(malformed, "not a job submission");
        }

        // A chosen id is used, and cannot be used twice.
        var chosen = $"my-job-{Guid.NewGuid():N}";
        Assert.Equal(chosen, await head.SubmitAsync(new { entrypoint = new[] { "true" }, submissionId = chosen }));
        await AssertBadRequest(await head.PostJobAsync(new { entrypoint = new[] { "true" }, submissionId = chosen }), "already taken");

        foreach (var unknown in new[] { "/api/jobs/raysubmit_nope", "/api/jobs/raysubmit_nope/logs" })
        {
            using var response = await head.Http.GetAsync(unknown);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("raysubmit_nope", await response.Content.ReadAsStringAsync());
        }

        using (var stop = await head.Http.PostAsync("/api/jobs/raysubmit_nope/stop", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, stop.StatusCode);
        }

        using (var tooLong = await head.Http.GetAsync($"/api/jobs/{chosen}/logs?waitSeconds=31"))
        {
            await AssertBadRequest(tooLong, "waitSeconds");
        }

        using (var negative = await head.Http.GetAsync($"/api/jobs/{chosen}/logs?offset=-1"))
        {
            await AssertBadRequest(negative, "offset");
        }
    }

    [Fact]
    public async Task The_oldest_finished_jobs_are_forgotten_with_their_logs_and_shutting_down_the_head_stops_its_running_drivers()
    {
        await using var own = await Head.StartAsync("--max-finished-jobs 2");
        var finished = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var quick = await own.SubmitAsync(new { entrypoint = new[] { "echo", $"quick {i}" } });
            Assert.Equal(("quick " + i + "\n", "SUCCEEDED"), await own.FollowLogsAsync(quick));
            finished.Add(quick);
        }

        var logs = Path.Combine(own.Cluster.JobsDirectory, own.HttpPort.ToString(), "logs");
        await Wait.UntilAsync(
            async () =>
            {
                using var response = await own.Http.GetAsync($"/api/jobs/{finished[0]}");
                return response.StatusCode == HttpStatusCode.NotFound && !File.Exists(Path.Combine(logs, finished[0] + ".log"));
            },
            "the oldest finished job is forgotten, and its log file deleted");
        foreach (var kept in finished.Skip(1))
        {
            Assert.Equal("SUCCEEDED", (await own.GetJobAsync(kept)).GetProperty("status").GetString());
            Assert.True(File.Exists(Path.Combine(logs, kept + ".log")));
        }

        var id = await own.SubmitAsync(new { entrypoint = new[] { "dotnet", "JobDriver.dll", "forever", "child" }, workingDir = own.DriverPackage });
        var running = await own.FollowLogsUntilAsync(id, "running until stopped");
        var childPid = int.Parse(running.Split('\n').Single(l => l.StartsWith("child pid: ", StringComparison.Ordinal))["child pid: ".Length..]);
        var driverPid = (await own.GetJobAsync(id)).GetProperty("driverPid").GetInt32();

        own.Cluster.Terminate(0);
        await own.Cluster.Silos[0].Process.WaitForExitAsync().WaitAsync(JobDeadline);
        Assert.Equal(0, own.Cluster.Silos[0].Process.ExitCode);
        Assert.False(Head.IsRunning(driverPid), "the driver outlived its head");
        Assert.False(Head.IsRunning(childPid), "the driver's child outlived the head");
    }

    [Fact]
    public async Task Drivers_left_by_a_head_killed_with_SIGKILL_are_killed_by_the_next_head_on_its_jobs_folder()
    {
        var jobsFolder = Directory.CreateTempSubdirectory("rayorleans-test-jobs-").FullName;
        int driverPid = 0, childPid = 0;
        try
        {
            await using (var first = await Head.StartAsync($"--jobs-dir \"{jobsFolder}\""))
            {
                var id = await first.SubmitAsync(new { entrypoint = new[] { "dotnet", "JobDriver.dll", "forever", "child" }, workingDir = first.DriverPackage });
                var running = await first.FollowLogsUntilAsync(id, "running until stopped");
                childPid = int.Parse(running.Split('\n').Single(l => l.StartsWith("child pid: ", StringComparison.Ordinal))["child pid: ".Length..]);
                driverPid = (await first.GetJobAsync(id)).GetProperty("driverPid").GetInt32();

                // SIGKILL to the head alone: it cannot stop its drivers, which live on without it.
                var silo = first.Cluster.Silos[0].Process;
                silo.Kill(entireProcessTree: false);
                await silo.WaitForExitAsync().WaitAsync(JobDeadline);
            }

            Assert.True(Head.IsRunning(driverPid) && Head.IsRunning(childPid), "the drivers were expected to outlive a SIGKILLed head");

            // A new head (a new cluster here) on the same jobs folder clears them as it starts.
            await using var next = await Head.StartAsync($"--jobs-dir \"{jobsFolder}\"");
            await Wait.UntilAsync(() => !Head.IsRunning(driverPid) && !Head.IsRunning(childPid), "the next head killed the leftover driver and its child");
        }
        finally
        {
            foreach (var pid in new[] { driverPid, childPid }.Where(p => p > 0 && Head.IsRunning(p)))
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }

            Directory.Delete(jobsFolder, recursive: true);
        }
    }

    private static Task AssertBadRequest(HttpResponseMessage response, string expected) => AssertStatus(response, HttpStatusCode.BadRequest, expected);

    private static async Task AssertStatus(HttpResponseMessage response, HttpStatusCode status, string expected)
    {
        using (response)
        {
            var message = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"expected {status}, got {response.StatusCode}: {message}");
            Assert.Contains(expected, message);
        }
    }

    /// <summary>One head: a Redis server and one silo host process, with the driver package uploaded.</summary>
    public sealed class Head : IAsyncLifetime, IAsyncDisposable
    {
        /// <summary>The head's --job-stop-grace-seconds.</summary>
        public const int GraceSeconds = 5;

        /// <summary>The head's --max-package-size: above the driver package's zip (about 9 MB).</summary>
        public const int MaxPackageBytes = 16_000_000;

        /// <summary>The head's --max-unpacked-package-size: above the driver package's files (about 21 MB).</summary>
        public const int MaxUnpackedBytes = 40_000_000;

        private ProcessCluster? _cluster;

        public ProcessCluster Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

        public int HttpPort => Cluster.HttpPorts[0];

        public HttpClient Http { get; private set; } = null!;

        /// <summary>The SHA-256 of the zipped <c>samples/JobDriver</c> build output, uploaded.</summary>
        public string DriverPackage { get; private set; } = "";

        /// <summary>A head of its own, with more switches of the silo host.</summary>
        public static async Task<Head> StartAsync(string extraArgs)
        {
            var head = new Head();
            await head.LaunchAsync(extraArgs);
            return head;
        }

        public Task InitializeAsync() => LaunchAsync("");

        private async Task LaunchAsync(string extraArgs)
        {
            _cluster = await ProcessCluster.StartAsync(silos: 0, cpusPerSilo: 1);
            await _cluster.StartSiloAsync(cpus: 1, extraArgs: $"--job-stop-grace-seconds {GraceSeconds} --max-package-size {MaxPackageBytes} --max-unpacked-package-size {MaxUnpackedBytes} {extraArgs}");
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}") };
            var zip = ZipFolder(DriverFolder());
            DriverPackage = Sha256(zip);
            using var put = await PutPackageAsync(DriverPackage, zip);
            Assert.True(put.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"upload: {put.StatusCode}"); // OK: a jobs folder that has it
        }

        /// <summary>samples/JobDriver's build output, next to this test project's (built first, as a project reference).</summary>
        public static string DriverFolder()
        {
            // tests/RayOrleans.Tests/bin/<Configuration>/<framework>/ -> samples/JobDriver/bin/<Configuration>/<framework>/
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            var folder = Path.Combine(root, "samples", "JobDriver", "bin", here.Parent.Name, here.Name);
            return File.Exists(Path.Combine(folder, "JobDriver.dll")) ? folder : throw new FileNotFoundException($"JobDriver is not built at {folder}.");
        }

        public static byte[] ZipFolder(string folder)
        {
            using var buffer = new MemoryStream();
            ZipFile.CreateFromDirectory(folder, buffer);
            return buffer.ToArray();
        }

        /// <summary>A zip of the given entries, written as given (so a test can make a hostile one); a .sh entry is made executable.</summary>
        public static byte[] Zip(params (string Name, string Text)[] entries)
        {
            using var buffer = new MemoryStream();
            using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            {
                foreach (var (name, text) in entries)
                {
                    var entry = archive.CreateEntry(name);
                    entry.ExternalAttributes = (name.EndsWith(".sh", StringComparison.Ordinal) ? 0b111_101_101 : 0b110_100_100) << 16;
                    using var writer = new StreamWriter(entry.Open());
                    writer.Write(text);
                }
            }

            return buffer.ToArray();
        }

        public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

        /// <summary>True while the process exists and is not a zombie (one killed but not yet reaped is gone for our purposes).</summary>
        public static bool IsRunning(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
            {
                return false;
            }
        }

        public async Task<HttpStatusCode> HeadPackageAsync(string hash)
        {
            using var response = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/packages/{hash}"));
            return response.StatusCode;
        }

        public Task<HttpResponseMessage> PutPackageAsync(string hash, byte[] zip)
        {
            var content = new ByteArrayContent(zip);
            content.Headers.ContentType = new("application/zip");
            return Http.PutAsync($"/api/packages/{hash}", content);
        }

        public Task<HttpResponseMessage> PostJobAsync(object body) => Http.PostAsJsonAsync("/api/jobs", body);

        public async Task<string> SubmitAsync(object body)
        {
            using var response = await PostJobAsync(body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"submit: {response.StatusCode}: {text}");
            return JsonDocument.Parse(text).RootElement.GetProperty("submissionId").GetString()!;
        }

        public async Task<JsonElement> GetJobAsync(string id) => await Http.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}");

        public async Task<bool> StopAsync(string id)
        {
            using var response = await Http.PostAsync($"/api/jobs/{id}/stop", null);
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("stopped").GetBoolean();
        }

        /// <summary>Follows the logs as <c>rayo job logs --follow</c> does, long-polling from each next offset, until the job has ended.</summary>
        public async Task<(string Logs, string Status)> FollowLogsAsync(string id) => await FollowAsync(id, until: null);

        /// <summary>Follows the logs until they contain <paramref name="text"/>; returns them so far.</summary>
        public async Task<string> FollowLogsUntilAsync(string id, string text)
        {
            var (logs, status) = await FollowAsync(id, text);
            Assert.True(logs.Contains(text, StringComparison.Ordinal), $"job {id} ended {status} without writing '{text}':\n{logs}");
            return logs;
        }

        private async Task<(string Logs, string Status)> FollowAsync(string id, string? until)
        {
            var logs = new MemoryStream();
            long offset = 0;
            var deadline = DateTime.UtcNow + JobDeadline;
            while (true)
            {
                Assert.True(DateTime.UtcNow < deadline, $"job {id} did not end within {JobDeadline}:\n{Encoding.UTF8.GetString(logs.ToArray())}");
                using var response = await Http.GetAsync($"/api/jobs/{id}/logs?offset={offset}&waitSeconds=10");
                response.EnsureSuccessStatusCode();
                var bytes = await response.Content.ReadAsByteArrayAsync();
                logs.Write(bytes);
                var next = long.Parse(response.Headers.GetValues("X-Log-Offset").Single());
                Assert.Equal(offset + bytes.Length, next);
                offset = next;
                var status = response.Headers.GetValues("X-Job-Status").Single();
                var text = Encoding.UTF8.GetString(logs.ToArray());
                if (until is not null && text.Contains(until, StringComparison.Ordinal))
                {
                    return (text, status);
                }

                // A terminal status is read before the bytes, so an empty answer with one means the log is complete.
                if (bytes.Length == 0 && status is "SUCCEEDED" or "FAILED" or "STOPPED")
                {
                    return (text, status);
                }
            }
        }

        public async Task DisposeAsync()
        {
            Http?.Dispose();
            if (_cluster is not null)
            {
                await _cluster.DisposeAsync();
            }
        }

        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}
