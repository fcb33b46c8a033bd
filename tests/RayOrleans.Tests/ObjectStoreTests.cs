using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using RayOrleans.Node;
using RayOrleans.Tests.Fixtures;
using RayOrleans.Tests.Functions;

namespace RayOrleans.Tests;

/// <summary>The node's shared-memory store: real segments in a scratch folder under /dev/shm, and large objects through a cluster.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class ObjectStoreTests(TwoNodeCluster fixture) : IDisposable
{
    private readonly string _root = Path.Combine(NodeObjectStore.DefaultRoot(), "..", $"rayorleans-test-{Guid.NewGuid():N}");

    private NodeObjectStore NewStore(long capacity) =>
        new(new NodeOptions { ObjectStoreMemory = capacity, ObjectStoreDirectory = _root, SpillDirectory = Path.Combine(_root, "spill") }, "test", NullLogger<NodeObjectStore>.Instance);

    [Fact]
    public void Objects_live_in_mapped_segment_files_that_are_reused_after_a_free()
    {
        using var store = NewStore(64L << 20);
        var id = ObjectId.NewPut();
        var data = Enumerable.Range(0, 3 << 20).Select(i => (byte)i).ToArray();
        store.Put(id, data);
        Assert.Single(Directory.GetFiles(store.Folder, "seg-*"));
        Assert.True(store.TryAcquire(id, out var read));
        Assert.True(read.Memory.Span.SequenceEqual(data));
        store.Release(read);

        store.Remove(id);
        Assert.Equal(0, store.Used);
        var again = ObjectId.NewPut();
        store.Put(again, data.AsSpan(1));   // about the same size: the pooled segment, no new file
        Assert.Single(Directory.GetFiles(store.Folder, "seg-*"));
        Assert.Equal(0, store.Pooled);
    }

    [Fact]
    public void A_segment_being_read_is_not_reused_until_its_reader_lets_go()
    {
        using var store = NewStore(64L << 20);
        var id = ObjectId.NewPut();
        store.Put(id, new byte[1 << 20].Select(_ => (byte)7).ToArray());
        Assert.True(store.TryAcquire(id, out var lease));
        store.Remove(id);
        Assert.False(store.TryAcquire(id, out _));

        store.Put(ObjectId.NewPut(), new byte[1 << 20]); // must not land in the leased segment
        Assert.All(lease.Memory.ToArray(), b => Assert.Equal(7, b));
        store.Release(lease);
        Assert.Equal(1 << 20, store.Pooled);
    }

    [Fact]
    public void A_full_store_refuses_a_put_saying_what_holds_the_memory()
    {
        using var store = NewStore(4L << 20);
        var big = ObjectId.NewPut();
        store.Put(big, new byte[3 << 20]);
        Assert.True(store.TryAcquire(big, out var reading)); // a reader holds it: it cannot spill
        var e = Assert.Throws<ObjectStoreFullException>(() => store.Put(ObjectId.NewPut(), new byte[2 << 20]));
        Assert.Contains(big.ToString(), e.Message);
        Assert.Contains("4,194,304", e.Message);
        store.Release(reading);
    }

    [Fact]
    public void When_memory_is_full_the_least_recently_used_objects_spill_to_disk_and_come_back_when_read()
    {
        using var store = NewStore(4L << 20);
        var first = ObjectId.NewPut();
        var second = ObjectId.NewPut();
        store.Put(first, Enumerable.Repeat((byte)1, 3 << 20).ToArray());
        store.Put(second, Enumerable.Repeat((byte)2, 3 << 20).ToArray());   // no room: the first spills
        Assert.Equal(3 << 20, store.Spilled);
        Assert.Single(Directory.GetFiles(store.SpillFolder, "*-*"));

        Assert.True(store.TryAcquire(first, out var back));                // read: it comes back, and the second spills
        Assert.All(back.Memory.ToArray(), b => Assert.Equal(1, b));
        store.Release(back);
        Assert.Equal(3 << 20, store.Spilled);
        Assert.True(store.TryAcquire(second, out var other));
        Assert.All(other.Memory.ToArray(), b => Assert.Equal(2, b));
        store.Release(other);

        store.Remove(first);
        store.Remove(second);
        Assert.Equal(0, store.Spilled);
        Assert.Empty(Directory.GetFiles(store.SpillFolder, "*-*"));
    }

    [Fact]
    public void Pooled_segments_give_way_to_live_objects()
    {
        using var store = NewStore(4L << 20);
        var first = ObjectId.NewPut();
        store.Put(first, new byte[3 << 20]);
        store.Remove(first);
        Assert.Equal(3 << 20, store.Pooled);
        store.Put(ObjectId.NewPut(), new byte[1 << 20]);   // too small to take the 3 MiB segment: a new one, which still fits
        Assert.Equal(3 << 20, store.Pooled);
        store.Put(ObjectId.NewPut(), new byte[1 << 20]);   // no room left beside the pooled segment: it is dropped
        Assert.Equal(0, store.Pooled);
        Assert.Equal(2 << 20, store.Used);
    }

    [Fact]
    public async Task The_folder_of_a_node_process_that_died_is_removed_at_the_next_start()
    {
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await gone.WaitForExitAsync();
        var leftover = Path.Combine(_root, "dead-node");
        Directory.CreateDirectory(leftover);
        await File.WriteAllTextAsync(Path.Combine(leftover, "owner.pid"), gone.Id.ToString());
        await File.WriteAllBytesAsync(Path.Combine(leftover, "seg-1"), new byte[4096]);

        using var store = NewStore(1L << 20);
        Assert.False(Directory.Exists(leftover));
        Assert.True(Directory.Exists(store.Folder));
        store.Dispose();
        Assert.False(Directory.Exists(store.Folder));
    }

    [Fact]
    public async Task A_large_array_result_round_trips_through_the_store_on_either_node()
    {
        var values = await fixture.Ray.GetAsync(Enumerable.Range(0, 4).Select(_ => fixture.Ray.Task(TestTasks.MakeArray, 1_000_000).Remote()));
        Assert.All(values, v => Assert.Equal(999_999.0, v[^1]));
        var put = await fixture.Ray.PutAsync(values[0]);
        Assert.Equal(values[0].Sum(), await fixture.Ray.Task(TestTasks.SumArray, put).Remote().GetAsync(Wait.Deadline));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

/// <summary>Views of arrays in the store: read in place on the node, over a copy elsewhere.</summary>
[Collection(TwoNodeCollection.Name)]
public sealed class ObjectViewTests(TwoNodeCluster fixture)
{
    private Ray Ray => fixture.Ray;

    [Fact]
    public async Task Two_views_on_a_node_read_the_same_shared_memory_and_a_copy_is_separate()
    {
        var report = await Ray.Task(TestTasks.ViewTwice, 1_000_000).Remote().GetAsync(Wait.Deadline);
        Assert.Equal("inPlace=True shared=True length=1000000 second=1", report);
    }

    [Fact]
    public async Task A_view_from_a_driver_without_a_store_reads_the_same_values()
    {
        var data = Enumerable.Range(0, 300_000).Select(i => (long)i * 3).ToArray();
        var stored = await Ray.PutAsync(data);
        using var view = await Ray.GetViewAsync(stored, Wait.Deadline);
        Assert.Equal(data.Length, view.Length);
        Assert.True(view.Span.SequenceEqual(data));

        var small = await Ray.PutAsync(new byte[] { 1, 2, 3 });
        using var inline = await Ray.GetViewAsync(small);
        Assert.False(inline.InPlace);
        Assert.Equal(new byte[] { 1, 2, 3 }, inline.Span.ToArray());
    }

    [Fact]
    public async Task Viewing_an_object_that_is_not_an_array_of_that_type_fails_clearly()
    {
        var floats = await Ray.PutAsync(new float[] { 1, 2 });
        var asInts = new ObjectRef<int[]>(floats.Id, Ray.Runtime);
        var e = await Assert.ThrowsAsync<InvalidCastException>(() => Ray.GetViewAsync(asInts));
        Assert.Contains("Int32", e.Message);
    }

    [Fact]
    public async Task Nodes_report_their_object_store_usage()
    {
        var stored = await Ray.PutAsync(new double[1_000_000]);
        Assert.True(Ray.Runtime.Owned.TryGetReady(stored.Id, out var record));
        var node = record.Location ?? throw new InvalidOperationException("a 8 MB object is stored, not inline");
        await Wait.UntilAsync(async () => (await Ray.NodesAsync()).Any(n =>
            n.NodeId == node && n.ObjectStoreUsed >= 8_000_000 && n.ObjectCount >= 1 && n.ObjectStoreCapacity > n.ObjectStoreUsed), "the node to report the stored object");
        GC.KeepAlive(stored);
    }

    [Fact]
    public async Task A_driver_on_a_node_host_puts_and_gets_large_objects_through_shared_memory()
    {
        var data = Enumerable.Range(0, 2_000_000).Select(i => (long)i).ToArray();
        var stored = await Ray.PutAsync(data);
        Assert.True(Ray.Runtime.Owned.TryGetReady(stored.Id, out var record));
        var node = (await Ray.NodesAsync()).Single(n => n.NodeId == record.Location);
        Assert.NotNull(node.ObjectStoreFolder);
        Assert.Null(Ray.Runtime.LocalStore); // this driver has no store: the object lives in the node's
        // The node's segment is mapped here: a view reads it in place, and two views share the memory.
        using (var first = await Ray.GetViewAsync(stored, Wait.Deadline))
        using (var second = await Ray.GetViewAsync(stored, Wait.Deadline))
        {
            Assert.True(first.InPlace);
            Assert.True(first.Span.SequenceEqual(data));
            Assert.Equal(data.Length, second.Length);
        }

        Assert.Equal(data, await stored.GetAsync(Wait.Deadline));
        Assert.Equal(data.Sum(), await Ray.Task(TestTasks.SumLongs, stored).Remote().GetAsync(Wait.Deadline));
    }

    [Fact]
    public async Task The_memory_view_lists_each_node_and_its_largest_objects()
    {
        var big = await Ray.PutAsync(new double[2_000_000]);
        Assert.True(Ray.Runtime.Owned.TryGetReady(big.Id, out var record));
        using var view = await Ray.GetViewAsync(big);
        var memory = await Ray.MemoryAsync(top: 50);
        Assert.Equal(2, memory.Count);
        var node = memory.Single(m => m.NodeId == record.Location);
        var listed = Assert.Single(node.Largest, o => o.Id == big.Id);
        Assert.Equal(record.Size, listed.Size);
        Assert.Equal(1, listed.Readers); // the open view
        Assert.Equal(Ray.Runtime.Id, listed.Owner);
        Assert.Equal("put", listed.Creator);
        Assert.Equal(["process:" + Ray.Runtime.Id], listed.Holders.Keys);
        Assert.True(node.Used >= record.Size && node.Capacity > node.Used);
    }

    [Fact]
    public async Task A_disposed_view_refuses_reads()
    {
        var stored = await Ray.PutAsync(new double[] { 1, 2, 3 });
        var view = await Ray.GetViewAsync(stored);
        view.Dispose();
        Assert.Throws<ObjectDisposedException>(() => view.Span.Length);
    }
}
