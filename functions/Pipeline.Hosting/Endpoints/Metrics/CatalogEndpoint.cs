using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Core.Catalog;

namespace Pipeline.Hosting.Endpoints.Metrics;

/// <summary>
/// <c>GET /api/v1/catalog</c>: the metric dictionary (id, stakeholder, tier, unit, kind, dimensions,
/// definition) as JSON, so dashboards and analysts' tools build their menus from the catalog the rollup
/// computes instead of a copy. The same for every reader (it describes metrics, not data), so it needs no key.
/// </summary>
public sealed class CatalogEndpoint
{
    public const string Route = "v1/catalog";

    private static readonly ReadOnlyMemory<byte> Body = Write();

    public HttpReply Handle(HttpRequest request) =>
        ReadReplies.Finish(request, new HttpReply(200, Body, HttpReply.Json), "public, max-age=300");

    private static ReadOnlyMemory<byte> Write()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", MetricCatalog.Version);
            w.WriteNumber("count", MetricCatalog.All.Count);
            w.WriteStartArray("metrics");
            foreach (var m in MetricCatalog.All)
            {
                w.WriteStartObject();
                w.WriteString("id", m.Id);
                w.WriteString("stakeholder", m.Stakeholder);
                w.WriteString("tier", m.Tier);
                w.WriteString("unit", m.Unit);
                w.WriteString("kind", m.Kind.ToString().ToLowerInvariant());
                w.WriteStartArray("dimensions");
                foreach (var d in m.Dimensions) w.WriteStringValue(d);
                w.WriteEndArray();
                w.WriteString("definition", m.Meaning);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenMemory.ToArray();
    }
}
