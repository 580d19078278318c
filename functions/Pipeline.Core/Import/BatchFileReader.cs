using System.Text.Json;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Import;

/// <summary>
/// A JSON batch file (the body the HTTP endpoint takes, <c>{"sentAt": …, "events": [ … ]}</c>, of any
/// length), read as a stream: each entry of <c>events</c> is handed out on its own, with the line where it
/// starts, and only the entry being read is held in memory. An entry longer than
/// <see cref="ImportLimits.MaxItemBytes"/> is skipped token by token and rejected as <c>event_too_large</c>.
/// Other properties of the object (<c>sentAt</c> among them) are read past and ignored. A file that is not
/// such an object (invalid JSON, no <c>events</c> array, <c>events</c> twice, content after the object)
/// stops the reader with an <see cref="ImportFileException"/>; the entries before that point were handed out.
/// </summary>
internal sealed class BatchFileReader : IImportReader
{
    /// <summary>The body's own nesting limit, so that an entry nests exactly as deep as it may in a request.</summary>
    private static readonly JsonReaderOptions Options = new() { MaxDepth = IngestLimits.MaxJsonDepth };

    /// <summary>Largest single token (or value of a property other than <c>events</c>) buffered whole.</summary>
    private const int MaxBufferBytes = IngestLimits.MaxBodyBytes;

    private enum Phase { Root, Properties, Entries, SkippingEntry, Trailing, Done }

    private readonly Stream _stream;
    private readonly int _maxItemBytes;
    private byte[] _buffer;
    private int _start, _end;
    private bool _eof;
    private JsonReaderState _state = new(Options);
    private long _lineAtStart = 1;
    private Phase _phase = Phase.Root;
    private bool _sawEvents;
    private int _ordinal;

    // The entry being skipped because it is too long.
    private int _skipDepth, _skipOrdinal;
    private long _skipLine, _skipBytes;

    public BatchFileReader(Stream stream, int maxItemBytes = ImportLimits.MaxItemBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _maxItemBytes = maxItemBytes;
        _buffer = new byte[Math.Max(64 * 1024, 2 * (maxItemBytes + 2))];
    }

    public bool TryRead(out ImportItem item)
    {
        item = default;
        while (true)
        {
            if (_phase == Phase.Done) return false;
            try
            {
                if (Step(ref item) is { } done) return done;
            }
            catch (JsonException e)
            {
                _phase = Phase.Done;
                throw new ImportFileException($"the batch file is not valid JSON at line {_lineAtStart + (e.LineNumber ?? 0)}: {ImportScan.Describe(e, withPosition: false)}", e);
            }
            Refill();
        }
    }

    /// <summary>One step of the state machine: true or false when TryRead should return that, null when more bytes are needed.</summary>
    private bool? Step(ref ImportItem item)
    {
        var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _eof, _state);
        while (true)
        {
            switch (_phase)
            {
                case Phase.Root:
                {
                    var head = _buffer.AsSpan(_start, _end - _start);
                    if (head.Length < 3 && !_eof) return null;
                    if (head.StartsWith("\uFEFF"u8))
                    {
                        _start += 3; // a byte-order mark, as the endpoint allows
                        return Step(ref item);
                    }
                    if (_eof && head.Trim(" \t\r\n"u8).IsEmpty) throw Fail("the file is empty; a JSON batch file is one object {\"events\": [ … ]}.");
                    if (!reader.Read()) return null;
                    if (reader.TokenType != JsonTokenType.StartObject)
                        throw Fail($"a JSON batch file is one object {{\"events\": [ … ]}}; this one starts with {Kind(reader.TokenType)}.");
                    Commit(ref reader);
                    _phase = Phase.Properties;
                    break;
                }

                case Phase.Properties:
                {
                    if (!reader.Read()) return null;
                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        if (!_sawEvents) throw Fail("the batch file has no \"events\" array.");
                        Commit(ref reader);
                        _phase = Phase.Trailing;
                        break;
                    }
                    var isEvents = reader.ValueTextEquals("events"u8);
                    if (!reader.Read()) return null;
                    if (isEvents)
                    {
                        if (_sawEvents) throw Fail("the batch file has the property \"events\" twice.");
                        if (reader.TokenType != JsonTokenType.StartArray) throw Fail($"\"events\" must be an array; got {Kind(reader.TokenType)}.");
                        _sawEvents = true;
                        Commit(ref reader);
                        _phase = Phase.Entries;
                        break;
                    }
                    if (!reader.TrySkip()) return null; // another property (sentAt, …): ignored, as the endpoint ignores it
                    Commit(ref reader);
                    break;
                }

                case Phase.Entries:
                {
                    if (!reader.Read()) return null;
                    if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        Commit(ref reader);
                        _phase = Phase.Properties;
                        break;
                    }
                    var entryStart = (int)reader.TokenStartIndex;
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        var atStart = reader;
                        if (!reader.TrySkip())
                        {
                            if (_end - _start - entryStart <= _maxItemBytes) return null; // read more of it
                            // Too long to hold: skip it token by token from here.
                            _skipLine = LineOf(entryStart);
                            _skipOrdinal = _ordinal++;
                            _skipDepth = atStart.CurrentDepth;
                            _skipBytes = atStart.BytesConsumed - entryStart;
                            Commit(ref atStart);
                            reader = atStart;
                            _phase = Phase.SkippingEntry;
                            break;
                        }
                    }
                    var length = (int)reader.BytesConsumed - entryStart;
                    var line = LineOf(entryStart);
                    var ordinal = _ordinal++;
                    var json = _buffer.AsMemory(_start + entryStart, length);
                    Commit(ref reader); // the bytes stay in place until the next read
                    item = length > _maxItemBytes
                        ? TooLarge(line, ordinal, length)
                        : ImportScan.Check(json.Span, $"events[{ordinal}]", out _, out var idHash) is { } problem
                            ? ImportItem.Rejected(line, ordinal, problem.Code, problem.Message)
                            : ImportItem.Event(line, ordinal, json, idHash);
                    return true;
                }

                case Phase.SkippingEntry:
                {
                    var finished = false;
                    while (reader.Read())
                    {
                        if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == _skipDepth)
                        {
                            finished = true;
                            break;
                        }
                    }
                    _skipBytes += reader.BytesConsumed;
                    Commit(ref reader);
                    if (!finished) return null;
                    _phase = Phase.Entries;
                    item = TooLarge(_skipLine, _skipOrdinal, _skipBytes);
                    return true;
                }

                case Phase.Trailing:
                    if (reader.Read()) throw Fail("the file has content after the batch object."); // (the reader usually throws first)
                    if (!_eof) return null;
                    _phase = Phase.Done;
                    return false;

                default:
                    return false;
            }
        }
    }

    private static ImportItem TooLarge(long line, int ordinal, long bytes) =>
        ImportItem.Rejected(line, ordinal, RejectionCodes.EventTooLarge,
            $"The event is {bytes} bytes of JSON; at most {IngestLimits.MaxEventBytes} are allowed.");

    private ImportFileException Fail(string message)
    {
        _phase = Phase.Done;
        return new ImportFileException(message + $" (line {_lineAtStart})");
    }

    /// <summary>Moves past what <paramref name="reader"/> has consumed, counting its lines.</summary>
    private void Commit(ref Utf8JsonReader reader)
    {
        var consumed = (int)reader.BytesConsumed;
        _lineAtStart += _buffer.AsSpan(_start, consumed).Count((byte)'\n');
        _start += consumed;
        _state = reader.CurrentState;
        reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _eof, _state);
    }

    private long LineOf(int offsetFromStart) => _lineAtStart + _buffer.AsSpan(_start, offsetFromStart).Count((byte)'\n');

    private void Refill()
    {
        if (_eof) throw Fail("the file ends inside the batch object (is it truncated?).");
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxBufferBytes)
                throw Fail($"the batch file has a single value longer than {MaxBufferBytes} bytes.");
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxBufferBytes));
        }
        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0) _eof = true;
        _end += read;
    }

    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => "null",
    };
}
