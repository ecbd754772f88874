using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Veil.Server.Platform.Persistence.Encryption;

/// <summary>
/// Opens encrypted columns as an entity is materialized from a query, setting its plaintext
/// properties. It runs for tracking and no-tracking queries alike; a value that does not open throws
/// <see cref="EncryptedFieldException"/>, so no query ever returns a row with silently wrong data.
/// </summary>
internal sealed class FieldDecryptionInterceptor : IMaterializationInterceptor
{
    public static readonly FieldDecryptionInterceptor Instance = new();

    private FieldDecryptionInterceptor()
    {
    }

    public object InitializedInstance(MaterializationInterceptionData materializationData, object entity)
    {
        if (EncryptionPlan.For(materializationData.EntityType) is not { Fields.Length: > 0 } plan)
        {
            return entity;
        }

        var keyring = ((VeilDbContext)materializationData.Context).Keyring;
        var keyValue = materializationData.GetPropertyValue(plan.Key!);
        foreach (var field in plan.Fields)
        {
            var envelope = materializationData.GetPropertyValue<byte[]?>(field.Envelope);
            field.Plaintext.SetValue(entity, FieldEncryption.Open(keyring, plan, field, keyValue, envelope));
        }

        return entity;
    }
}
