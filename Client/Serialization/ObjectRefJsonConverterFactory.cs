using System.Text.Json;
using System.Text.Json.Serialization;

namespace RayOrleans.Serialization;

/// <summary>
/// Writes an <see cref="ObjectRef{T}"/> inside a value as its id, so it stays a reference on the other side.
/// Writing it is where a ref leaves its owner's process: the owner then publishes the object to the
/// directory, where the reader finds it.
/// </summary>
internal sealed class ObjectRefJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(ObjectRef<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class Converter<T> : JsonConverter<ObjectRef<T>>
    {
        public override ObjectRef<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString() ?? throw new JsonException("An ObjectRef must be written as its id.");
            return new ObjectRef<T>(ObjectId.Parse(text), Runtime.RayRuntime.Reading);
        }

        public override void Write(Utf8JsonWriter writer, ObjectRef<T> value, JsonSerializerOptions options)
        {
            Runtime.RayRuntime.Escape(value.Id);
            writer.WriteStringValue(value.Id.ToString());
        }
    }
}
