using System.Text;
using System.Text.Json;
using Pipeline.Core.Events;

namespace Pipeline.Core.Ingest;

/// <summary>The table of the contract's named props per event type: which are required, their rules, and where each goes in the stored event.</summary>
internal sealed partial class EventValidator
{
    private enum PropField : byte
    {
        Scene, LoadMs, ReferrerMiniProgramId, DurationMs, Page, Target, OrderId, Amount, Currency, MerchantId,
        AdUnitId, Revenue, Kind, Message, Reason, Scope, DeveloperId, Version, Category,
    }

    private struct PropValues
    {
        public int? Scene;
        public long? LoadMs;
        public string? ReferrerMiniProgramId;
        public long? DurationMs;
        public string? Page;
        public ShareTarget ShareTarget;
        public string? OrderId;
        public long? Amount;
        public string? Currency;
        public string? MerchantId;
        public string? AdUnitId;
        public long? Revenue;
        public ErrorKind ErrorKind;
        public string? Message;
        public string? Reason;
        public string? Scope;
        public string? DeveloperId;
        public string? Version;
        public string? Category;
    }

    /// <summary>A prop the contract names for a type, in the contract's table order (the order missing ones are reported).</summary>
    private sealed class PropSpec(PropField field, string name, bool required)
    {
        public PropField Field { get; } = field;
        public string Name { get; } = name;
        public byte[] Utf8Name { get; } = Encoding.UTF8.GetBytes(name);
        public bool Required { get; } = required;

        private static readonly PropSpec[][] ByType = Build();

        public static PropSpec[] ForType(EventType type) => ByType[(int)type];

        public static int Match(PropSpec[] specs, JsonProperty property)
        {
            for (var i = 0; i < specs.Length; i++)
            {
                if (property.NameEquals(specs[i].Utf8Name)) return i;
            }
            return -1;
        }

        private static PropSpec[][] Build()
        {
            static PropSpec R(PropField f, string n) => new(f, n, true);
            static PropSpec O(PropField f, string n) => new(f, n, false);
            var byType = new PropSpec[(int)EventType.Custom + 1][];
            Array.Fill(byType, []);
            byType[(int)EventType.SessionStart] = [R(PropField.Scene, "scene"), O(PropField.LoadMs, "loadMs"), O(PropField.ReferrerMiniProgramId, "referrerMiniProgramId")];
            byType[(int)EventType.SessionEnd] = [R(PropField.DurationMs, "durationMs")];
            byType[(int)EventType.PageView] = [R(PropField.Page, "page"), O(PropField.DurationMs, "durationMs")];
            byType[(int)EventType.Share] = [R(PropField.Target, "target"), O(PropField.Page, "page")];
            byType[(int)EventType.OrderPaid] = [R(PropField.OrderId, "orderId"), R(PropField.Amount, "amount"), R(PropField.Currency, "currency"), R(PropField.MerchantId, "merchantId")];
            byType[(int)EventType.OrderRefunded] = [R(PropField.OrderId, "orderId"), R(PropField.Amount, "amount"), R(PropField.Currency, "currency"), R(PropField.MerchantId, "merchantId")];
            byType[(int)EventType.AdImpression] = [R(PropField.AdUnitId, "adUnitId"), O(PropField.Revenue, "revenue"), O(PropField.Currency, "currency")];
            byType[(int)EventType.AdClick] = [R(PropField.AdUnitId, "adUnitId")];
            byType[(int)EventType.Error] = [R(PropField.Kind, "kind"), O(PropField.Message, "message")];
            byType[(int)EventType.Complaint] = [R(PropField.Reason, "reason")];
            byType[(int)EventType.PermissionDenied] = [R(PropField.Scope, "scope")];
            byType[(int)EventType.MiniProgramPublished] = [R(PropField.DeveloperId, "developerId"), R(PropField.Version, "version"), O(PropField.Category, "category")];
            // custom.<name>: no named props; every prop is passed through.
            return byType;
        }
    }
}
