using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using RayOrleans.Hosting;
using RayOrleans.Messages;
using RayOrleans.Tests.Fixtures;

namespace RayOrleans.Tests;

/// <summary><c>RequestResourcesAsync</c> (Ray's <c>request_resources</c>): stored for the autoscaler, a later call replacing the earlier one.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class ResourceRequestTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task A_request_is_stored_as_bundles_a_later_one_replaces_it_and_an_empty_one_clears_it()
    {
        var grain = fixture.Cluster.Client.GetGrain<Grains.IAutoscalerStateGrain>(0);
        try
        {
            await Ray.RequestResourcesAsync(numCpus: 3, bundles: [new() { ["CPU"] = 4, ["GPU"] = 1 }]);
            var stored = await grain.GetResourceRequestsAsync();
            Assert.Equal(4, stored.Length);
            Assert.Equal(3, stored.Count(b => b.ToString() == "{CPU: 1}"));
            Assert.Single(stored, b => b[ResourceSet.Gpu] == 1 && b[ResourceSet.Cpu] == 4);

            await Ray.RequestResourcesAsync(bundles: [new() { ["CPU"] = 2 }]);
            Assert.Equal("{CPU: 2}", Assert.Single(await grain.GetResourceRequestsAsync()).ToString());

            // Stored, not only held: a new activation after the hosting silo died reads it back.
            var storage = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(ClusterStateStorageOptions.ProviderName);
            var record = new GrainState<Autoscaling.ResourceRequestRecord>();
            await storage.ReadStateAsync("requests", grain.GetGrainId(), record);
            Assert.Equal("{CPU: 2}", Assert.Single(record.State!.Bundles).ToString());

            await Ray.RequestResourcesAsync();
            Assert.Empty(await grain.GetResourceRequestsAsync());

            // Checked at the call site, naming the bundle; nothing is stored.
            var bad = await Assert.ThrowsAsync<ArgumentException>(() => Ray.RequestResourcesAsync(bundles: [new() { ["CPU"] = 1 }, new() { ["CPU"] = -1 }]));
            Assert.Contains("Bundle 1", bad.Message);
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Ray.RequestResourcesAsync(numCpus: -1));
            Assert.Empty(await grain.GetResourceRequestsAsync());

            // Without an autoscaler the status has none.
            Assert.Null((await Ray.ClusterStatusAsync()).Autoscaler);
        }
        finally
        {
            await Ray.RequestResourcesAsync();
        }
    }
}
