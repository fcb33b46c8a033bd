namespace RayOrleans.Silo.Jobs;

/// <summary>
/// A job or package request that cannot be accepted as sent (an empty entrypoint, an unknown package, a
/// hash that does not match, a zip entry outside its folder). The HTTP API answers 400 with the message.
/// </summary>
internal class InvalidJobRequestException(string message) : Exception(message);
