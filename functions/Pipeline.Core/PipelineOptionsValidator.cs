using Microsoft.Extensions.Options;

namespace Pipeline.Core;

/// <summary>
/// The one validator of <see cref="PipelineOptions"/>, generated at build time from its attributes
/// (nested members included, <see cref="ValidateObjectMembersAttribute"/>) and its
/// <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/> rules; run once, at start-up
/// (<c>ValidateOnStart</c>). Source-generated rather than reflection-based, so it is trimming-safe and
/// fast, and every failure keeps its own precise message.
/// </summary>
[OptionsValidator]
public sealed partial class PipelineOptionsValidator : IValidateOptions<PipelineOptions>;
