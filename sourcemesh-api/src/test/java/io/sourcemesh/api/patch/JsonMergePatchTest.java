package io.sourcemesh.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonMergePatchTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    // RFC 7386, Appendix A, every row.
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"a\":\"b\"}                | {\"a\":\"c\"}                | {\"a\":\"c\"}",
            "{\"a\":\"b\"}                | {\"b\":\"c\"}                | {\"a\":\"b\",\"b\":\"c\"}",
            "{\"a\":\"b\"}                | {\"a\":null}                 | {}",
            "{\"a\":\"b\",\"b\":\"c\"}    | {\"a\":null}                 | {\"b\":\"c\"}",
            "{\"a\":[\"b\"]}              | {\"a\":\"c\"}                | {\"a\":\"c\"}",
            "{\"a\":\"c\"}                | {\"a\":[\"b\"]}              | {\"a\":[\"b\"]}",
            "{\"a\":{\"b\":\"c\"}}        | {\"a\":{\"b\":\"d\",\"c\":null}} | {\"a\":{\"b\":\"d\"}}",
            "{\"a\":[{\"b\":\"c\"}]}      | {\"a\":[1]}                  | {\"a\":[1]}",
            "[\"a\",\"b\"]                | [\"c\",\"d\"]                | [\"c\",\"d\"]",
            "{\"a\":\"b\"}                | [\"c\"]                      | [\"c\"]",
            "{\"a\":\"foo\"}              | null                         | null",
            "{\"a\":\"foo\"}              | \"bar\"                      | \"bar\"",
            "{\"e\":null}                 | {\"a\":1}                    | {\"e\":null,\"a\":1}",
            "[1,2]                        | {\"a\":\"b\",\"c\":null}     | {\"a\":\"b\"}",
            "{}                           | {\"a\":{\"bb\":{\"ccc\":null}}} | {\"a\":{\"bb\":{}}}"})
    void rfc7386AppendixA(String target, String patch, String expected) throws Exception {
        JsonNode result = JsonMergePatch.apply(JSON.readTree(target), JSON.readTree(patch));
        assertEquals(JSON.readTree(expected), result);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"{\"a\":1} | {\"a\":2}"})
    void doesNotChangeTheTarget(String target, String patch) throws Exception {
        JsonNode t = JSON.readTree(target);
        JsonMergePatch.apply(t, JSON.readTree(patch));
        assertEquals(JSON.readTree(target), t);
    }
}
