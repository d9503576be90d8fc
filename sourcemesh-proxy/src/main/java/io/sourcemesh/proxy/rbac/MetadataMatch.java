package io.sourcemesh.proxy.rbac;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.List;

/**
 * Envoy's {@code type.matcher.v3.MetadataMatcher} over the stream's dynamic metadata: the value at {@code path} (keys
 * into nested structs) of namespace {@code filter}'s struct — absent when a key is missing, as Envoy's
 * Metadata::metadataValue gives an unset value — matched by {@code value}, the result inverted under {@code invert}.
 * The structs are the stream's one dynamic metadata store ({@code StreamInfo.dynamicMetadata}).
 */
public record MetadataMatch(String filter, List<String> path, Value value, boolean invert) {

    public MetadataMatch {
        path = List.copyOf(path);
    }

    public boolean matches(RbacRequest r) {
        JsonNode v = r.dynamicMetadata(filter);
        for (String key : path) {
            v = v != null && v.isObject() ? v.get(key) : null;
        }
        return value.matches(v) ^ invert;
    }

    /** Envoy's {@code ValueMatcher} kinds SourceMesh evaluates; {@code v} is null when the value is unset. */
    public sealed interface Value {
        boolean matches(JsonNode v);
    }

    /** {@code null_match}: the value is JSON null. */
    public record NullValue() implements Value {
        @Override
        public boolean matches(JsonNode v) {
            return v != null && v.isNull();
        }
    }

    /** {@code string_match}: a string value the matcher accepts (a number or a list is not a string). */
    public record StringValue(StringMatch match) implements Value {
        @Override
        public boolean matches(JsonNode v) {
            return v != null && v.isTextual() && match.matches(v.textValue());
        }
    }

    /** {@code bool_match}. */
    public record BoolValue(boolean expected) implements Value {
        @Override
        public boolean matches(JsonNode v) {
            return v != null && v.isBoolean() && v.booleanValue() == expected;
        }
    }

    /** {@code present_match}: Envoy's PresentMatcher, true only when asked for true and the value is set. */
    public record PresentValue(boolean present) implements Value {
        @Override
        public boolean matches(JsonNode v) {
            return present && v != null;
        }
    }

    /** {@code list_match.one_of}: a list with an element the matcher accepts. */
    public record ListOneOf(Value oneOf) implements Value {
        @Override
        public boolean matches(JsonNode v) {
            if (v == null || !v.isArray()) {
                return false;
            }
            for (JsonNode e : v) {
                if (oneOf.matches(e)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** {@code or_match}: any of them. */
    public record OrValue(List<Value> values) implements Value {
        public OrValue {
            values = List.copyOf(values);
        }

        @Override
        public boolean matches(JsonNode v) {
            for (Value m : values) {
                if (m.matches(v)) {
                    return true;
                }
            }
            return false;
        }
    }
}
