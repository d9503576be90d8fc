package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.sourcemesh.proxy.matcher.HeaderMatch;
import io.sourcemesh.proxy.matcher.RangeMatch;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.Optional;

/**
 * Envoy's {@code HeaderMatcher} and {@code StringMatcher} into the proxy's matchers. Routes and RBAC
 * share them because Envoy does: both run {@code HeaderUtility::matchHeaders} and {@code StringMatcherImpl}.
 */
final class Matchers {
    private Matchers() {}

    static HeaderMatch header(HeaderMatcher h, String path) {
        only(h, path, "name", "exact_match", "safe_regex_match", "present_match", "prefix_match", "suffix_match",
                "contains_match", "string_match", "range_match", "invert_match", "treat_missing_header_as_empty");
        if (h.getName().isEmpty()) {
            throw new ConfigException(at(path, "name"), "is required");
        }
        // Envoy's HTTP_HEADER_NAME validation (strict: false): no name a request line could be split on.
        if (h.getName().chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
            throw new ConfigException(at(path, "name"), "must not contain CR, LF or NUL");
        }
        String name = h.getName().toLowerCase(java.util.Locale.ROOT);
        Optional<StringMatch> match = switch (h.getHeaderMatchSpecifierCase()) {
            // Envoy's exact header matcher: an empty expected value matches every value, not only "".
            case EXACT_MATCH -> Optional.of(h.getExactMatch().isEmpty() ? StringMatch.of(StringMatch.Kind.PREFIX, "", false)
                    : StringMatch.of(StringMatch.Kind.EXACT, h.getExactMatch(), false));
            case PREFIX_MATCH -> Optional.of(nonEmpty(StringMatch.of(StringMatch.Kind.PREFIX, h.getPrefixMatch(), false),
                    at(path, "prefix_match")));
            case SUFFIX_MATCH -> Optional.of(nonEmpty(StringMatch.of(StringMatch.Kind.SUFFIX, h.getSuffixMatch(), false),
                    at(path, "suffix_match")));
            case CONTAINS_MATCH -> Optional.of(nonEmpty(StringMatch.of(StringMatch.Kind.CONTAINS, h.getContainsMatch(), false),
                    at(path, "contains_match")));
            case SAFE_REGEX_MATCH -> Optional.of(StringMatch.regex(RouteTranslator.regex(h.getSafeRegexMatch(),
                    at(path, "safe_regex_match"))));
            case STRING_MATCH -> Optional.of(string(h.getStringMatch(), at(path, "string_match")));
            default -> Optional.empty(); // range_match below; present_match, or no specifier: a presence check
        };
        Optional<RangeMatch> range = Optional.empty();
        if (h.getHeaderMatchSpecifierCase() == HeaderMatcher.HeaderMatchSpecifierCase.RANGE_MATCH) {
            only(h.getRangeMatch(), at(path, "range_match"), "start", "end");
            range = Optional.of(new RangeMatch(h.getRangeMatch().getStart(), h.getRangeMatch().getEnd()));
        }
        boolean present = h.getHeaderMatchSpecifierCase() != HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH
                || h.getPresentMatch();
        return new HeaderMatch(name, match, present, h.getInvertMatch(), h.getTreatMissingHeaderAsEmpty(), range);
    }

    static StringMatch string(StringMatcher s, String path) {
        only(s, path, "exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case");
        boolean ic = s.getIgnoreCase();
        // Envoy's StringMatcherImpl refuses it rather than leave a reader thinking the regex folds case.
        if (ic && s.getMatchPatternCase() == StringMatcher.MatchPatternCase.SAFE_REGEX) {
            throw new ConfigException(at(path, "ignore_case"), "has no effect for safe_regex");
        }
        return switch (s.getMatchPatternCase()) {
            case EXACT -> StringMatch.of(StringMatch.Kind.EXACT, s.getExact(), ic);
            case PREFIX -> nonEmpty(StringMatch.of(StringMatch.Kind.PREFIX, s.getPrefix(), ic), at(path, "prefix"));
            case SUFFIX -> nonEmpty(StringMatch.of(StringMatch.Kind.SUFFIX, s.getSuffix(), ic), at(path, "suffix"));
            case CONTAINS -> nonEmpty(StringMatch.of(StringMatch.Kind.CONTAINS, s.getContains(), ic), at(path, "contains"));
            case SAFE_REGEX -> StringMatch.regex(RouteTranslator.regex(s.getSafeRegex(), at(path, "safe_regex")));
            default -> throw new ConfigException(path, "one of exact, prefix, suffix, contains, safe_regex is required");
        };
    }

    /** Envoy's proto validation: prefix, suffix and contains need at least one character (header matchers' too). */
    private static StringMatch nonEmpty(StringMatch m, String path) {
        if (m.value().isEmpty()) {
            throw new ConfigException(path, "must not be empty");
        }
        return m;
    }
}
