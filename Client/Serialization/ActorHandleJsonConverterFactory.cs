using System.Text.Json;
using System.Text.Json.Serialization;

namespace RayOrleans.Serialization;

/// <summary>Writes an <see cref="ActorHandle{T}"/> as its actor id; the copy on the other side calls the same actor.</summary>
internal sealed class ActorHandleJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(ActorHandle<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class Converter<T> : JsonConverter<ActorHandle<T>>
    {
        public override ActorHandle<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            if (text is null || !Guid.TryParseExact(text, "N", out var id))
            {
                throw new JsonException("An ActorHandle must be written as its actor id.");
            }

            return new ActorHandle<T>(new ActorId(id), Runtime.RayRuntime.Reading);
        }

        public override void Write(Utf8JsonWriter writer, ActorHandle<T> value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Id.ToString());
    }
}
