using RayOrleans.Messages;
using RayOrleans.Runtime;

namespace RayOrleans;

/// <summary>
/// A placement group, as Ray's: bundles of resources reserved across nodes all at once (or not at all) by
/// its <see cref="PlacementGroupStrategy"/>. Schedule tasks and actors into it with
/// <see cref="Bundle(int)"/> or <see cref="AnyBundle"/> as their <c>SchedulingStrategy</c>: they run on the
/// node holding the bundle, out of the bundle's resources only. Create with <c>Ray.PlacementGroupAsync</c>.
/// </summary>
public sealed class PlacementGroup
{
    private readonly RayRuntime _runtime;

    internal PlacementGroup(RayRuntime runtime, PlacementGroupSpec spec)
    {
        _runtime = runtime;
        Spec = spec;
    }

    internal PlacementGroupSpec Spec { get; }

    /// <summary>The group's id.</summary>
    public Guid Id => Spec.Id;

    /// <summary>Its name, or null.</summary>
    public string? Name => Spec.Name;

    /// <summary>How its bundles are laid over nodes.</summary>
    public PlacementGroupStrategy Strategy => Spec.Strategy;

    /// <summary>What each bundle reserves, by index.</summary>
    public IReadOnlyList<ResourceSet> Bundles => Spec.Bundles;

    /// <summary>Work in bundle <paramref name="index"/>: use as a task's or actor's <c>SchedulingStrategy</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The group has no such bundle.</exception>
    public SchedulingStrategy Bundle(int index)
    {
        if (index < 0 || index >= Spec.Bundles.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Placement group {Id:N} has bundles 0 to {Spec.Bundles.Length - 1}.");
        }

        return SchedulingStrategy.PlacementGroup(Id, index);
    }

    /// <summary>Work in whichever of the group's bundles can hold it.</summary>
    public SchedulingStrategy AnyBundle => SchedulingStrategy.PlacementGroup(Id);

    /// <summary>Completes when every bundle is reserved (Ray's <c>pg.ready()</c>); throws if the group is removed first.</summary>
    /// <exception cref="InvalidOperationException">The group was removed before it was created.</exception>
    public async Task ReadyAsync(CancellationToken cancellationToken = default)
    {
        var info = await _runtime.WhenGroupSettledAsync(Id, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (info.State != PlacementGroupState.Created)
        {
            throw new InvalidOperationException($"Placement group {Id:N} was removed before it was created.");
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the group to be created (Ray's <c>pg.wait</c>); true when it is.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var wait = left < _runtime.Options.LongPollInterval ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : _runtime.Options.LongPollInterval;
            var info = await _runtime.PollGroupAsync(Id, wait).ConfigureAwait(false);
            if (info is { State: PlacementGroupState.Created or PlacementGroupState.Removed } || DateTime.UtcNow >= deadline)
            {
                return info?.State == PlacementGroupState.Created;
            }
        }
    }

    /// <summary>
    /// The group's state now: pending (and why), created (and where each bundle is), rescheduling (a node
    /// holding some of its bundles died; which ones, and why they are not placed again yet), or removed.
    /// </summary>
    public async Task<PlacementGroupInfo> InfoAsync() =>
        await _runtime.GroupInfoAsync(Id).ConfigureAwait(false)
        ?? throw new InvalidOperationException($"No placement group has id {Id:N}.");

    /// <inheritdoc />
    public override string ToString() => $"PlacementGroup({Id:N}{(Name is null ? "" : ", " + Name)}, {Strategy}, {Spec.Bundles.Length} bundles)";
}
