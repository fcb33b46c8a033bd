using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

[Collection(TwoNodeCollection.Name)]
public sealed class ErrorTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task A_remote_exception_carries_type_message_stack_task_and_node()
    {
        var failed = Ray.Task(TestTasks.Fail, "boom").Remote();
        var e = await Assert.ThrowsAsync<RayTaskException>(() => failed.GetAsync(Wait.Deadline));
        Assert.Equal(typeof(InvalidOperationException).FullName, e.RemoteExceptionType);
        Assert.Equal("boom", e.RemoteMessage);
        Assert.Equal("TestTasks.Fail", e.TaskName);
        Assert.Contains(nameof(TestTasks.Fail), e.RemoteStackTrace);
        Assert.Contains(e.Node, (await Ray.NodesAsync()).Select(n => n.NodeId));
    }

    [Fact]
    public async Task A_task_whose_dependency_failed_names_the_original_failure()
    {
        var failed = Ray.Task(TestTasks.Fail, "root cause").Remote();
        var dependent = Ray.Task(TestTasks.Add, failed, 1).Remote();
        var e = await Assert.ThrowsAsync<RayTaskException>(() => dependent.GetAsync(Wait.Deadline));
        Assert.Equal("TestTasks.Add", e.TaskName);
        Assert.NotNull(e.Cause);
        Assert.Equal("TestTasks.Fail", e.Cause!.TaskName);
        Assert.Equal("root cause", e.Cause.Message);
        Assert.Contains("root cause", e.Message);
    }

    [Fact]
    public void A_lambda_or_non_public_method_fails_at_the_call_site()
    {
        var offset = 3;
        var lambda = Assert.Throws<ArgumentException>(() => Ray.Task((int x) => x + offset, 1));
        Assert.Contains("public static method", lambda.Message);
        var hidden = Assert.Throws<ArgumentException>(() => Ray.Task(Hidden, 1));
        Assert.Contains("must be public", hidden.Message);
    }

    [Fact]
    public void An_argument_that_cannot_be_serialized_fails_at_the_call_site()
    {
        var e = Assert.Throws<ArgumentException>(() => Ray.Task(Takes, new Unsendable()));
        Assert.Contains("Argument 1 of ErrorTests.Takes", e.Message);
        Assert.Contains("cannot be sent", e.Message);
    }

    [Fact]
    public async Task Options_are_validated_at_the_call_site()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Task(TestTasks.Square, 1).Options(new TaskOptions { NumCpus = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ray.Actor(() => new Counter()).Options(new ActorOptions { MaxConcurrency = 0 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ray.WaitAsync<ObjectRef>([], numReturns: 1));
    }

    private static int Hidden(int x) => x;

    public static int Takes(Unsendable value) => 0;

    public sealed class Unsendable
    {
        public Action Callback { get; set; } = () => { };
    }
}
