using System.Buffers.Text;
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
        // An id is "<32 hex digits>:<index>", read and written straight from and to UTF-8 (no string per ref:
        // a value may hold thousands of refs).
        public override ObjectRef<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new JsonException($"An ObjectRef must be written as its id string, found a JSON {reader.TokenType}.");
            }

            ObjectId id;
            if (!reader.HasValueSequence && !reader.ValueIsEscaped && TryParse(reader.ValueSpan, out var parsed))
            {
                id = parsed;
            }
            else
            {
                try
                {
                    id = ObjectId.Parse(reader.GetString()!);
                }
                catch (FormatException e)
                {
                    throw new JsonException(e.Message, e); // System.Text.Json adds where in the value it was
                }
            }

            return new ObjectRef<T>(id, Runtime.RayRuntime.Reading);
        }

        public override void Write(Utf8JsonWriter writer, ObjectRef<T> value, JsonSerializerOptions options)
        {
            Runtime.RayRuntime.Escape(value.Id);
            Span<byte> utf8 = stackalloc byte[32 + 1 + 11];
            Utf8Formatter.TryFormat(value.Id.TaskId, utf8, out var written, 'N');
            utf8[written++] = (byte)':';
            Utf8Formatter.TryFormat(value.Id.Index, utf8[written..], out var digits);
            writer.WriteStringValue(utf8[..(written + digits)]);
        }

        private static bool TryParse(ReadOnlySpan<byte> utf8, out ObjectId id)
        {
            id = default;
            if (utf8.Length < 34 || utf8[32] != (byte)':' ||
                !Utf8Parser.TryParse(utf8[..32], out Guid task, out var used, 'N') || used != 32 ||
                !Utf8Parser.TryParse(utf8[33..], out int index, out used) || used != utf8.Length - 33)
            {
                return false;
            }

            id = new ObjectId(task, index);
            return true;
        }
    }
}
