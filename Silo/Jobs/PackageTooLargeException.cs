namespace RayOrleans.Silo.Jobs;

/// <summary>A package over <see cref="JobOptions.MaxPackageBytes"/> or <see cref="JobOptions.MaxUnpackedPackageBytes"/>; the HTTP API answers 413.</summary>
internal sealed class PackageTooLargeException(string message) : InvalidJobRequestException(message);
