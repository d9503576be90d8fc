package io.sourcemesh.api.resource;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compact structural schema, enough for strict field validation as the API server does it: objects with
 * known fields (anything else is an unknown field), maps, lists, typed scalars with enums and ranges, and
 * free-form subtrees such as an EnvoyFilter's {@code patch.value}.
 */
public sealed interface Schema {

    /** An object with a closed set of fields. */
    record Obj(Map<String, Field> fields) implements Schema {
        public Obj {
            fields = Map.copyOf(fields);
        }

        /** A copy with more fields, for shared shapes such as Istio's port selectors. */
        public Obj with(Field... more) {
            Map<String, Field> all = new LinkedHashMap<>(fields);
            for (Field f : more) {
                all.put(f.name(), f);
            }
            return new Obj(all);
        }
    }

    /** A map from any string key to values of one schema. */
    record MapOf(Schema values) implements Schema {
    }

    /** A list of items of one schema. */
    record ListOf(Schema items) implements Schema {
    }

    /** A scalar; {@code allowed} empty means any value of the type; min/max bound integers. */
    record Scalar(Type type, List<String> allowed, long min, long max) implements Schema {
        public Scalar {
            allowed = List.copyOf(allowed);
        }
    }

    /** Anything at all: the server preserves it without looking. */
    record Any() implements Schema {
    }

    enum Type { STRING, INTEGER, NUMBER, BOOLEAN, INT_OR_STRING, QUANTITY, BASE64, RE2 }

    record Field(String name, Schema schema, boolean required) {
    }

    static Field f(String name, Schema schema) {
        return new Field(name, schema, false);
    }

    static Field req(String name, Schema schema) {
        return new Field(name, schema, true);
    }

    static Obj object(Field... fields) {
        Map<String, Field> m = new LinkedHashMap<>();
        for (Field f : fields) {
            m.put(f.name(), f);
        }
        return new Obj(m);
    }

    static MapOf mapOf(Schema values) {
        return new MapOf(values);
    }

    static ListOf listOf(Schema items) {
        return new ListOf(items);
    }

    static Scalar string() {
        return scalar(Type.STRING);
    }

    static Scalar integer() {
        return scalar(Type.INTEGER);
    }

    static Scalar integer(long min, long max) {
        return new Scalar(Type.INTEGER, List.of(), min, max);
    }

    static Scalar number() {
        return scalar(Type.NUMBER);
    }

    static Scalar bool() {
        return scalar(Type.BOOLEAN);
    }

    static Scalar intOrString() {
        return scalar(Type.INT_OR_STRING);
    }

    static Scalar quantity() {
        return scalar(Type.QUANTITY);
    }

    static Scalar base64() {
        return scalar(Type.BASE64);
    }

    /** A regex Istio validates as Go's regexp compiles it (RE2 syntax). */
    static Scalar re2() {
        return scalar(Type.RE2);
    }

    static Scalar oneOf(String... values) {
        return new Scalar(Type.STRING, Arrays.asList(values), Long.MIN_VALUE, Long.MAX_VALUE);
    }

    static Any any() {
        return new Any();
    }

    static ListOf strings() {
        return listOf(string());
    }

    static MapOf stringMap() {
        return mapOf(string());
    }

    private static Scalar scalar(Type type) {
        return new Scalar(type, List.of(), Long.MIN_VALUE, Long.MAX_VALUE);
    }
}
