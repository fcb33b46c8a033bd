using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RayOrleans.Benchmarks.Cluster;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;
using static Microsoft.Playwright.Assertions;

namespace RayOrleans.Tests;

/// <summary>
/// The dashboard in a real browser (headless Chromium through Playwright) against two real silo processes
/// with a driver's work on them: what a person opening each page sees. The pages refresh themselves every
/// few seconds; Playwright's assertions wait (with a deadline) until the page shows what is expected.
/// </summary>
public sealed class DashboardTests(DashboardTests.LiveCluster live) : IClassFixture<DashboardTests.LiveCluster>
{
    [Fact]
    public async Task Root_leads_to_the_overview_which_links_every_page_and_the_Orleans_Dashboard()
    {
        var page = await OpenAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/dashboard/$"));
        await Expect(page).ToHaveTitleAsync("Overview · RayOrleans");
        foreach (var title in new[] { "Cluster", "Jobs", "Actors", "Tasks", "Objects & memory", "Placement groups", "Orleans Dashboard" })
        {
            await Expect(page.Locator("#pages").GetByRole(AriaRole.Link, new() { Name = title, Exact = true })).ToBeVisibleAsync();
        }

        // The cards count what the cluster holds: 2 nodes with 4 CPUs, the two gated tasks running.
        await Expect(Card(page, "nodes")).ToHaveTextAsync("2");
        await Expect(Card(page, "tasks running")).ToHaveTextAsync("2");
        await Expect(Card(page, "CPUs in use")).ToContainTextAsync("/ 4");

        await page.Locator("header nav").GetByRole(AriaRole.Link, new() { Name = "Tasks", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/dashboard/tasks$"));
        await Expect(page.Locator("h1")).ToHaveTextAsync("Tasks");
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task Cluster_shows_both_nodes_with_their_resources_and_load()
    {
        var page = await OpenAsync("/dashboard/cluster");
        var nodes = page.Locator("#nodes tbody tr");
        await Expect(nodes).ToHaveCountAsync(2);
        foreach (var (_, nodeId) in live.Cluster.Silos)
        {
            var row = page.Locator("#nodes tbody tr", new() { HasText = nodeId });
            await Expect(row).ToHaveCountAsync(1);
            await Expect(row).ToContainTextAsync("CPU");
            await Expect(row).ToContainTextAsync("/ 2");        // each node offers 2 CPUs
            await Expect(row).ToContainTextAsync("memory");
        }

        // The two gated tasks hold a CPU each while they run: the cluster's running count and its CPU bar say so.
        await Expect(Card(page, "running tasks")).ToHaveTextAsync("2");
        await Expect(Card(page, "CPU in use")).ToContainTextAsync("/ 4");
        await Expect(page.Locator("#pending")).ToContainTextAsync("Nothing waits for resources.");
        await Expect(page.Locator("#infeasible")).ToContainTextAsync("No infeasible demands.");
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task Actors_shows_the_named_actor_alive_and_filters_by_state()
    {
        var page = await OpenAsync("/dashboard/actors");
        var counter = page.Locator("#actors tbody tr", new() { HasText = LiveCluster.ActorName });
        await Expect(counter).ToContainTextAsync("ALIVE");
        await Expect(counter).ToContainTextAsync("Counter");
        await Expect(counter).ToContainTextAsync(live.CounterNode);

        // Filtering by DEAD: the killed actor with its death cause, and no longer the live one.
        await page.Locator("#filters select[name=state]").SelectOptionAsync("DEAD");
        await Expect(page).ToHaveURLAsync(new Regex("state=DEAD"));
        var doomed = page.Locator("#actors tbody tr", new() { HasText = LiveCluster.KilledActorName });
        await Expect(doomed).ToContainTextAsync("DEAD");
        await Expect(doomed.Locator("td.error")).Not.ToBeEmptyAsync();
        await Expect(page.Locator("#actors tbody tr", new() { HasText = LiveCluster.ActorName })).ToHaveCountAsync(0);
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task Tasks_counts_states_and_lists_the_failed_task_with_its_error()
    {
        var page = await OpenAsync("/dashboard/tasks");
        await Expect(page.Locator("#states [data-state=RUNNING] .card-value")).ToHaveTextAsync("2");

        // By name: columns Name, Type, then PENDING_ARGS_AVAIL, PENDING_NODE_ASSIGNMENT, RUNNING, FINISHED, FAILED.
        var gated = page.Locator("#summary tbody tr", new() { HasText = "FileGate.RunGated" });
        await Expect(gated.Locator("td").Nth(4)).ToHaveTextAsync("2");
        var squares = page.Locator("#summary tbody tr", new() { HasText = "TestTasks.Square" });
        await Expect(squares.Locator("td").Nth(5)).ToHaveTextAsync(LiveCluster.Squares.ToString());
        var failing = page.Locator("#summary tbody tr", new() { HasText = "TestTasks.Fail" }).First;
        await Expect(failing.Locator("td").Nth(6)).Not.ToBeEmptyAsync();

        // The failed attempts, filtered by state and name: the error message as the task threw it.
        await page.Locator("#filters select[name=state]").SelectOptionAsync("FAILED");
        await page.Locator("#filters input[name=name]").FillAsync("TestTasks.Fail");
        await page.Locator("#filters input[name=name]").PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex("state=FAILED.*name=TestTasks.Fail|name=TestTasks.Fail.*state=FAILED"));
        var failed = page.Locator("#tasks tbody tr");
        await Expect(failed).ToHaveCountAsync(1);
        await Expect(failed).ToContainTextAsync(LiveCluster.FailureMessage);
        await Expect(failed).ToContainTextAsync("FAILED");
        await Expect(failed).ToContainTextAsync(LiveCluster.JobId);

        // Clicking a name in the summary lists that task's attempts.
        await squares.GetByRole(AriaRole.Link, new() { Name = "TestTasks.Square", Exact = true }).ClickAsync();
        await Expect(page.Locator("#tasks tbody tr", new() { HasText = "TestTasks.Square" })).ToHaveCountAsync(LiveCluster.Squares);
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task A_task_name_and_an_error_message_that_look_like_HTML_are_shown_as_text()
    {
        var page = await OpenAsync("/dashboard/tasks");
        await Expect(page.Locator("#summary").GetByText(LiveCluster.HostileName, new() { Exact = true })).ToBeVisibleAsync();
        var row = page.Locator("#tasks tbody tr", new() { HasText = LiveCluster.HostileName });
        await Expect(row).ToContainTextAsync(LiveCluster.HostileMessage);

        // Nothing of them became markup: no such elements, no handler ran.
        await Expect(page.Locator("#injected-name")).ToHaveCountAsync(0);
        await Expect(page.Locator("#injected-error")).ToHaveCountAsync(0);
        await Expect(page.Locator("#tasks img")).ToHaveCountAsync(0);
        Assert.Null(await page.EvaluateAsync<string?>("() => window.injected ?? null"));
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task Objects_and_memory_shows_each_node_store_and_the_largest_objects()
    {
        var page = await OpenAsync("/dashboard/memory");
        foreach (var (_, nodeId) in live.Cluster.Silos)
        {
            await Expect(page.Locator("#stores tbody tr", new() { HasText = nodeId })).ToHaveCountAsync(1);
        }

        // The driver's large put lives in a node's store, listed by its id: 2,000,000 bytes of doubles (and a small header).
        var big = page.Locator("#objects tbody tr", new() { HasText = live.BigObject.Id.ToString() });
        await Expect(big).ToHaveCountAsync(1);
        await Expect(big).ToContainTextAsync("1.9 MiB");
        await Expect(big).ToContainTextAsync("memory");
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task Placement_groups_shows_the_group_and_its_node()
    {
        var page = await OpenAsync("/dashboard/placement-groups");
        var row = page.Locator("#groups tbody tr", new() { HasText = LiveCluster.GroupName });
        await Expect(row).ToContainTextAsync("CREATED");
        await Expect(row).ToContainTextAsync("Pack");
        await Expect(row).ToContainTextAsync(new Regex(string.Join("|", live.Cluster.Silos.Select(s => Regex.Escape(s.NodeId)))));
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task Jobs_lists_jobs_or_says_plainly_that_none_are_served()
    {
        // Job submission lives on a head node; where this host does not serve it, the page says so instead of failing.
        using var http = new HttpClient { BaseAddress = new Uri(live.BaseUrl) };
        var served = (await http.GetAsync("/api/jobs")).StatusCode != HttpStatusCode.NotFound;

        var page = await OpenAsync("/dashboard/jobs");
        await Expect(page.Locator("#jobs")).ToContainTextAsync(served ? "Submission" : "No jobs: this node does not serve job submission");
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task A_jobs_logs_are_followed_as_the_driver_writes_them_until_it_ends()
    {
        // A driver (a shell, run by the head without a shell of its own) that writes a line, waits for the
        // test's go-ahead file, writes another and exits; one line looks like HTML.
        var gate = Path.Combine(Directory.CreateTempSubdirectory("rayorleans-dashboard-job-").FullName, "go");
        using var http = new HttpClient { BaseAddress = new Uri(live.BaseUrl) };
        var script = $"echo 'first line'; echo '<b id=\"injected-log\">not bold</b>'; while [ ! -e '{gate}' ]; do sleep 0.05; done; echo 'second line'";
        using var submitted = await http.PostAsJsonAsync("/api/jobs", new { entrypoint = new[] { "/bin/sh", "-c", script } });
        var page = await live.NewPageAsync();
        if (submitted.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            // A host without job submission: the page says so (the contract the Jobs page is written against).
            await page.GotoAsync(live.BaseUrl + "/dashboard/jobs?id=missing");
            await Expect(page.Locator("#job")).ToContainTextAsync("No job 'missing' here");
            return;
        }

        Assert.True(submitted.IsSuccessStatusCode, await submitted.Content.ReadAsStringAsync());
        var id = System.Text.Json.JsonDocument.Parse(await submitted.Content.ReadAsStringAsync()).RootElement.GetProperty("submissionId").GetString()!;
        try
        {
            await page.GotoAsync(live.BaseUrl + "/dashboard/jobs");
            var row = page.Locator("#jobs tbody tr", new() { HasText = id });
            await Expect(row).ToContainTextAsync("RUNNING");
            await row.GetByRole(AriaRole.Link, new() { Name = id, Exact = true }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"jobs\\?id={Regex.Escape(id)}$"));

            // While the driver waits, the page shows what it wrote so far and keeps following.
            await Expect(page.Locator("#logs")).ToHaveTextAsync("first line\n<b id=\"injected-log\">not bold</b>\n");
            await Expect(page.Locator("#log-state")).ToContainTextAsync("Following the logs");
            await Expect(page.Locator("#job")).ToContainTextAsync("RUNNING");

            // The rest arrives once, after what was there, and the page stops when the job has ended.
            File.WriteAllText(gate, "");
            await Expect(page.Locator("#logs")).ToHaveTextAsync("first line\n<b id=\"injected-log\">not bold</b>\nsecond line\n");
            await Expect(page.Locator("#log-state")).ToContainTextAsync("The job is SUCCEEDED; its logs are complete");
            await Expect(page.Locator("#job")).ToContainTextAsync("SUCCEEDED");
            await Expect(page.Locator("#injected-log")).ToHaveCountAsync(0);
            await AssertHealthyAsync(page);
        }
        finally
        {
            // Whatever happened above, the driver ends before its folder goes (it would wait for the file forever).
            File.WriteAllText(gate, "");
            await http.PostAsync($"/api/jobs/{id}/stop", null);
            await Wait.UntilAsync(async () =>
            {
                var job = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"/api/jobs/{id}")).RootElement;
                return job.GetProperty("status").GetString() is "SUCCEEDED" or "FAILED" or "STOPPED";
            }, "the job's driver has ended");
            Directory.Delete(Path.GetDirectoryName(gate)!, recursive: true);
        }
    }

    [Fact]
    public async Task The_Orleans_Dashboard_loads_from_the_overview_link()
    {
        var page = await OpenAsync("/dashboard/");
        await page.Locator("#pages").GetByRole(AriaRole.Link, new() { Name = "Orleans Dashboard", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/orleans/$"));
        await Expect(page).ToHaveTitleAsync("Orleans Dashboard");
        // Its overview, filled from its own JSON API: the silos of this cluster are counted.
        await Expect(page.GetByText("Active Silos")).ToBeVisibleAsync();
        await Expect(page.GetByText("Total Activations")).ToBeVisibleAsync();
        Assert.Empty(live.PageErrors(page));
    }

    [Fact]
    public async Task With_the_Orleans_Dashboard_off_the_node_serves_no_such_page_and_the_overview_says_so()
    {
        await using var cluster = await ProcessCluster.StartAsync(silos: 0, cpusPerSilo: 1);
        await cluster.StartSiloAsync(1, extraArgs: "--orleans-dashboard false");
        var baseUrl = $"http://127.0.0.1:{cluster.HttpPorts[0]}";
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/orleans/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/orleans/DashboardCounters")).StatusCode);

        var page = await live.NewPageAsync();
        await page.GotoAsync(baseUrl + "/dashboard/");
        await Expect(page.Locator("#pages")).ToContainTextAsync("The Orleans Dashboard is turned off on this node");
        await Expect(page.Locator("#pages").GetByRole(AriaRole.Link, new() { Name = "Orleans Dashboard" })).ToHaveCountAsync(0);
        await Expect(Card(page, "nodes")).ToHaveTextAsync("1");
        await Expect(page.Locator("header nav a")).ToHaveCountAsync(7); // the seven RayOrleans pages, no Orleans link
        await AssertHealthyAsync(page);
    }

    [Fact]
    public async Task The_host_serves_the_pages_from_its_assembly_with_revalidation()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(live.BaseUrl) };
        using (var root = await http.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
            Assert.Equal("/dashboard/", root.Headers.Location?.OriginalString);
        }

        using (var folder = await http.GetAsync("/dashboard?x=1"))
        {
            Assert.Equal("/dashboard/?x=1", folder.Headers.Location?.OriginalString); // relative links resolve inside the folder
        }

        using var tasks = await http.GetAsync("/dashboard/tasks");
        Assert.Equal(HttpStatusCode.OK, tasks.StatusCode);
        Assert.Equal("text/html", tasks.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script src=\"tasks.js\"", await tasks.Content.ReadAsStringAsync());
        Assert.Contains("script-src 'self'", tasks.Headers.GetValues("Content-Security-Policy").Single());
        var etag = tasks.Headers.ETag!;

        using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/tasks.html");
        again.Headers.IfNoneMatch.Add(etag);
        using (var notModified = await http.SendAsync(again))
        {
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/dashboard/no-such-page")).StatusCode);
        var config = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/dashboard/config.json")).RootElement;
        Assert.Equal(live.Cluster.Silos[0].NodeId, config.GetProperty("nodeId").GetString());
        Assert.Equal("/orleans/", config.GetProperty("orleansDashboard").GetString());
    }

    private static ILocator Card(IPage page, string caption) =>
        page.Locator(".card", new() { Has = page.Locator(".card-caption", new() { HasTextRegex = new Regex($"^{Regex.Escape(caption)}$") }) }).Locator(".card-value");

    private async Task<IPage> OpenAsync(string path)
    {
        var page = await live.NewPageAsync();
        await page.GotoAsync(live.BaseUrl + path);
        return page;
    }

    /// <summary>The page's last refresh succeeded and no script failed on it.</summary>
    private async Task AssertHealthyAsync(IPage page)
    {
        await Expect(page.Locator("#refresh")).ToHaveTextAsync(new Regex("^updated "));
        Assert.Empty(live.PageErrors(page));
    }

    /// <summary>
    /// Two silo processes and a driver that has left on them: two tasks running (held by a file gate),
    /// finished tasks, a failed one, one whose name and error look like HTML, a named actor alive and one
    /// killed, a large object and a placement group; and the browser.
    /// </summary>
    public sealed class LiveCluster : IAsyncLifetime
    {
        public const string JobId = "dashboard-test";
        public const string ActorName = "dashboard-counter";
        public const string KilledActorName = "dashboard-doomed";
        public const string GroupName = "dashboard-group";
        public const string FailureMessage = "the dashboard's failing task gave up";
        public const int Squares = 6;

        // What a careless page would turn into an element with an onerror handler, and into bold text.
        public const string HostileName = "<img src=x id=injected-name onerror=\"window.injected='name'\">";
        public const string HostileMessage = "<b id=\"injected-error\" onclick=\"window.injected='error'\">not bold</b> & <script>window.injected='script'</script>";

        private readonly string _gate = Directory.CreateTempSubdirectory("rayorleans-dashboard-gate-").FullName;
        private readonly List<IBrowserContext> _contexts = [];
        private readonly Dictionary<IPage, List<string>> _errors = [];
        private HeadlessChromium? _chromium;
        private List<ObjectRef<string>> _gated = [];
        private PlacementGroup? _group;

        public ProcessCluster Cluster { get; private set; } = null!;

        public Ray Ray { get; private set; } = null!;

        /// <summary>The head silo's HTTP endpoint: the first silo's.</summary>
        public string BaseUrl => $"http://127.0.0.1:{Cluster.HttpPorts[0]}";

        public string CounterNode { get; private set; } = "";

        /// <summary>A put large enough for a node's shared-memory store; held until the end.</summary>
        public ObjectRef<double[]> BigObject { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            // Expectations wait for the pages' next refresh (every 3 s) on a busy machine.
            SetDefaultExpectTimeout(30_000);
            Cluster = await ProcessCluster.StartAsync(silos: 2, cpusPerSilo: 2);
            Ray = await Ray.InitAsync(Cluster.Address, new RayInitOptions { ClusterId = Cluster.ClusterId, JobId = JobId });
            await Wait.UntilAsync(async () => (await Ray.NodesAsync()).Count == 2, "both silo processes report");

            var squares = await Ray.GetAsync(Enumerable.Range(0, Squares).Select(i => Ray.Task(TestTasks.Square, i).Remote()), Wait.Deadline);
            Assert.Equal(Enumerable.Range(0, Squares).Select(i => i * i), squares);
            var failure = await Assert.ThrowsAsync<RayTaskException>(() => Ray.Task(TestTasks.Fail, FailureMessage).Remote().GetAsync(Wait.Deadline));
            Assert.Contains(FailureMessage, failure.RemoteMessage);
            await Assert.ThrowsAsync<RayTaskException>(() =>
                Ray.Task(TestTasks.Fail, HostileMessage).Options(new TaskOptions { Name = HostileName }).Remote().GetAsync(Wait.Deadline));

            var counter = Ray.Actor(() => new Counter()).Options(new ActorOptions { Name = ActorName }).Remote();
            Assert.Equal(5, await counter.Task(c => c.Add(5)).Remote().GetAsync(Wait.Deadline));
            CounterNode = await counter.Task(c => c.Node()).Remote().GetAsync(Wait.Deadline);
            var doomed = Ray.Actor(() => new Counter()).Options(new ActorOptions { Name = KilledActorName }).Remote();
            Assert.Equal(1, await doomed.Task(c => c.Add(1)).Remote().GetAsync(Wait.Deadline));
            await Ray.KillAsync(doomed);

            BigObject = await Ray.PutAsync(new double[250_000]);
            _group = await Ray.PlacementGroupAsync([new() { ["CPU"] = 1 }], PlacementGroupStrategy.Pack, name: GroupName);
            await _group.ReadyAsync();

            // Two tasks that stay RUNNING until the test is over.
            _gated = Enumerable.Range(0, 2).Select(_ => Ray.Task(FileGate.RunGated, _gate).Remote()).ToList();
            await Wait.UntilAsync(() => FileGate.Started(_gate) == 2, "both gated tasks run");

            _chromium = await HeadlessChromium.LaunchAsync();
        }

        /// <summary>A page in a fresh browser context, its uncaught script errors recorded.</summary>
        public async Task<IPage> NewPageAsync()
        {
            var context = await _chromium!.Browser.NewContextAsync();
            _contexts.Add(context);
            var page = await context.NewPageAsync();
            var errors = new List<string>();
            _errors[page] = errors;
            page.PageError += (_, error) =>
            {
                lock (errors)
                {
                    errors.Add(error);
                }
            };
            return page;
        }

        public List<string> PageErrors(IPage page)
        {
            var errors = _errors[page];
            lock (errors)
            {
                return [.. errors];
            }
        }

        public async Task DisposeAsync()
        {
            foreach (var context in _contexts)
            {
                await context.CloseAsync();
            }

            if (_chromium is not null)
            {
                await _chromium.DisposeAsync();
            }

            FileGate.Open(_gate);
            if (Ray is not null)
            {
                await Ray.GetAsync(_gated, Wait.Deadline);
                GC.KeepAlive(BigObject);
                await Ray.DisposeAsync();
            }

            if (Cluster is not null)
            {
                await Cluster.DisposeAsync();
            }

            Directory.Delete(_gate, recursive: true);
        }
    }
}
