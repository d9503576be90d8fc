package io.sourcemesh.proxy.matcher;

import java.util.Optional;

/**
 * Envoy's {@code config.route.v3.HeaderMatcher}, as routes and RBAC use it: the value by {@code match}
 * or by {@code range} ({@code range_match}); neither means a presence check ({@code present_match}, or
 * no specifier at all). Envoy's rules for an absent header
 * ({@code HeaderUtility::matchHeaders}): a value matcher fails whatever {@code invert_match} says,
 * unless {@code treat_missing_header_as_empty}; a presence check is inverted as usual.
 */
public record HeaderMatch(String name, Optional<StringMatch> match, boolean presentMatch, boolean invert,
        boolean treatMissingAsEmpty, Optional<RangeMatch> range) {

    public HeaderMatch(String name, Optional<StringMatch> match, boolean presentMatch, boolean invert, boolean treatMissingAsEmpty) {
        this(name, match, presentMatch, invert, treatMissingAsEmpty, Optional.empty());
    }

    /** {@code value}: every value of the header joined with ",", empty when absent. */
    public boolean matches(Optional<String> value) {
        return matches(value.orElse(null));
    }

    /** {@code value}: as above, null when absent (the route table's lookup allocates no Optional). */
    public boolean matches(String value) {
        if (match.isEmpty() && range.isEmpty()) {
            return ((value != null) == presentMatch) != invert;
        }
        if (value == null && !treatMissingAsEmpty) {
            return false;
        }
        String v = value == null ? "" : value;
        return (range.isPresent() ? range.get().matches(v) : match.get().matches(v)) != invert;
    }

    @Override
    public String toString() {
        return name + (invert ? " !" : " ") + match.map(StringMatch::toString).or(() -> range.map(RangeMatch::toString))
                .orElse(presentMatch ? "present" : "absent");
    }
}
