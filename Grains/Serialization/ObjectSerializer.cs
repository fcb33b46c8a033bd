using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RayOrleans.Serialization;

/// <summary>
/// Turns user values into the bytes the object store and task arguments carry, and back.
/// Arrays of unmanaged primitives (int[], double[], byte[], ...) are stored as their raw bytes, so the
/// store can later map them without a copy; everything else is System.Text.Json with fields included,
/// which round-trips records, classes, collections and dictionaries without attributes on user types.
/// <c>ObjectRef&lt;T&gt;</c> and <c>ActorHandle&lt;T&gt;</c> carry their own converters, so refs nested in
/// a value stay refs.
/// </summary>
internal sealed class ObjectSerializer
{
    // The first byte says how the rest is encoded; a later format gets a new tag rather than a guess.
    private const byte RawArrayTag = 1;

    /// <summary>
    /// A raw array's payload starts this far in (the tag, the element's <see cref="TypeCode"/>, then padding),
    /// so it is 8-byte aligned wherever the object starts aligned (a store segment, a .NET array): a view over
    /// it reads elements in place.
    /// </summary>
    public const int RawHeader = 8;
    private const byte JsonTag = 2;
    private const byte NullTag = 3;

    public static readonly ObjectSerializer Instance = new();

    /// <summary>
    /// Options for types of a job's collectible code, one set per load context: System.Text.Json caches what it
    /// learns about each type in its options, so one shared set would keep every job's code loaded forever.
    /// </summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<System.Runtime.Loader.AssemblyLoadContext, JsonSerializerOptions> _contextOptions = new();

    private readonly JsonSerializerOptions _json = new()
    {
        IncludeFields = true,
        // Cycles are a user error we report, not something to silently break by dropping references.
        ReferenceHandler = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        MaxDepth = 256,
    };

    public byte[] Serialize(object? value, Type declaredType)
    {
        if (value is null)
        {
            return [NullTag];
        }

        if (value is Array array && RawElementSize(array.GetType()) is > 0 and var size)
        {
            return SerializeRawArray(array, size);
        }

        try
        {
            // Serialize with the runtime type only when it is the declared one or more specific within a
            // sealed hierarchy; polymorphic values are written as the declared type, which is what the
            // receiver will ask for.
            // A value declared as object is written as its runtime type: that type picks the options too.
            var bytes = JsonSerializer.SerializeToUtf8Bytes(value, declaredType, OptionsFor(declaredType == typeof(object) ? value.GetType() : declaredType));
            var result = new byte[bytes.Length + 1];
            result[0] = JsonTag;
            bytes.CopyTo(result, 1);
            return result;
        }
        catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException or ArgumentException)
        {
            throw new RaySerializationException(declaredType, e);
        }
    }

    public object? Deserialize(ReadOnlySpan<byte> data, Type type)
    {
        if (data.IsEmpty)
        {
            throw new InvalidDataException("An empty buffer is not a serialized object.");
        }

        switch (data[0])
        {
            case NullTag:
                return null;
            case RawArrayTag:
                return DeserializeRawArray(data, type);
            case JsonTag:
                try
                {
                    return JsonSerializer.Deserialize(data[1..], type, OptionsFor(type));
                }
                catch (Exception e) when (e is NotSupportedException or JsonException or InvalidOperationException)
                {
                    throw new RaySerializationException(type, e);
                }
            default:
                throw new InvalidDataException($"Unknown object encoding tag {data[0]}.");
        }
    }

    /// <summary>
    /// Whether <paramref name="data"/> is an array of <paramref name="elementType"/> stored as raw bytes, so
    /// its elements can be viewed in place from <see cref="RawHeader"/> on.
    /// </summary>
    public static bool IsRawArrayOf(ReadOnlySpan<byte> data, Type elementType) =>
        data.Length >= RawHeader && data[0] == RawArrayTag && data[1] == (byte)Type.GetTypeCode(elementType) &&
        RawElementSize(elementType.MakeArrayType()) is > 0 and var size && (data.Length - RawHeader) % size == 0;

    /// <summary>The serialized size of <paramref name="value"/> when it is an array stored as raw bytes; else null.</summary>
    public long? RawSize(object? value) =>
        value is Array array && RawElementSize(array.GetType()) is > 0 and var size ? RawHeader + (long)array.Length * size : null;

    /// <summary>Writes an array stored as raw bytes into <paramref name="target"/>, which is <see cref="RawSize"/> long.</summary>
    public void WriteRaw(Array array, Span<byte> target)
    {
        var byteCount = target.Length - RawHeader;
        target[..RawHeader].Clear();
        target[0] = RawArrayTag;
        target[1] = (byte)Type.GetTypeCode(array.GetType().GetElementType());
        ref var source = ref MemoryMarshal.GetArrayDataReference(array);
        MemoryMarshal.CreateReadOnlySpan(ref source, byteCount).CopyTo(target[RawHeader..]);
    }

    private static byte[] SerializeRawArray(Array array, int elementSize)
    {
        var byteCount = checked((long)array.Length * elementSize);
        var result = GC.AllocateUninitializedArray<byte>(checked((int)(byteCount + RawHeader)));
        result.AsSpan(0, RawHeader).Clear();
        result[0] = RawArrayTag;
        result[1] = (byte)Type.GetTypeCode(array.GetType().GetElementType());
        ref var source = ref MemoryMarshal.GetArrayDataReference(array);
        MemoryMarshal.CreateReadOnlySpan(ref source, (int)byteCount).CopyTo(result.AsSpan(RawHeader));
        return result;
    }

    private static object DeserializeRawArray(ReadOnlySpan<byte> data, Type type)
    {
        var elementSize = RawElementSize(type);
        var stored = data.Length > 1 ? (TypeCode)data[1] : TypeCode.Empty;
        if (elementSize == 0 || stored != Type.GetTypeCode(type.GetElementType()))
        {
            throw new RaySerializationException(type, new InvalidDataException(
                $"The stored object is an array of {stored}; it cannot be read as {type}."));
        }

        var payload = data[RawHeader..];
        if (type == typeof(byte[]))
        {
            return payload.ToArray();
        }

        if (payload.Length % elementSize != 0)
        {
            throw new InvalidDataException($"A stored {type} has {payload.Length} bytes, not a multiple of {elementSize}.");
        }

        var array = Array.CreateInstance(type.GetElementType()!, payload.Length / elementSize);
        ref var target = ref MemoryMarshal.GetArrayDataReference(array);
        payload.CopyTo(MemoryMarshal.CreateSpan(ref target, payload.Length));
        return array;
    }

    /// <summary>The element size when <paramref name="arrayType"/> is stored as raw bytes, else 0; worked out once per type.</summary>
    private static int RawElementSize(Type arrayType) =>
        arrayType.IsCollectible ? ComputeRawElementSize(arrayType) : RawSizes.GetOrAdd(arrayType, ComputeRawElementSize); // a job's types are never cached here

    private static int ComputeRawElementSize(Type t)
    {
        if (!t.IsSZArray)
        {
            return 0;
        }

        var e = t.GetElementType()!;
        return !e.IsPrimitive || e == typeof(bool) || e == typeof(char) || e == typeof(IntPtr) || e == typeof(UIntPtr) ? 0 : Marshal.SizeOf(e);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, int> RawSizes = new();

    private JsonSerializerOptions OptionsFor(Type type)
    {
        if (!type.IsCollectible || ContextOf(type) is not { } context)
        {
            return _json;
        }

        // A resolver of its own: options that only copy _json's settings share its type cache, which would keep
        // every job's types (and so its code) alive for good.
        return _contextOptions.GetValue(context, _ => new JsonSerializerOptions(_json) { TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() });
    }

    /// <summary>The collectible load context a type (or one of its element or generic argument types) comes from.</summary>
    private static System.Runtime.Loader.AssemblyLoadContext? ContextOf(Type type)
    {
        if (type.Assembly.IsCollectible)
        {
            return System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(type.Assembly);
        }

        if (type.HasElementType && ContextOf(type.GetElementType()!) is { } element)
        {
            return element;
        }

        return type.IsGenericType ? type.GetGenericArguments().Select(ContextOf).FirstOrDefault(c => c is not null) : null;
    }
}
