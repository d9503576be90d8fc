package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabelSelectorTest {

    @Test
    void equalityBased() {
        LabelSelector s = LabelSelector.parse("app=sleep,version!=v2");
        assertTrue(s.matches(Map.of("app", "sleep")));
        assertTrue(s.matches(Map.of("app", "sleep", "version", "v1")));
        assertFalse(s.matches(Map.of("app", "sleep", "version", "v2")));
        assertFalse(s.matches(Map.of("app", "httpbin")));
        assertTrue(LabelSelector.parse("app==sleep").matches(Map.of("app", "sleep")));
    }

    @Test
    void setBased() {
        LabelSelector s = LabelSelector.parse("env in (prod, qa),tier notin (front),beta,!legacy");
        assertTrue(s.matches(Map.of("env", "qa", "tier", "back", "beta", "")));
        assertFalse(s.matches(Map.of("env", "dev", "beta", "")));
        assertFalse(s.matches(Map.of("env", "qa", "tier", "front", "beta", "")));
        assertFalse(s.matches(Map.of("env", "qa")));
        assertFalse(s.matches(Map.of("env", "qa", "beta", "", "legacy", "y")));
        assertEquals("env in (prod,qa),tier notin (front),beta,!legacy", s.toString());
    }

    @Test
    void emptyMatchesEverythingAndGarbageIsRejected() {
        assertTrue(LabelSelector.parse("").matches(Map.of()));
        assertThrows(IllegalArgumentException.class, () -> LabelSelector.parse("app=x,,b=c"));
        assertThrows(IllegalArgumentException.class, () -> LabelSelector.parse("env in prod"));
    }

    @Test
    void fromMatchLabelsAndExpressions() throws Exception {
        var node = new ObjectMapper().readTree("""
                {"matchLabels": {"app": "httpbin"},
                 "matchExpressions": [{"key": "version", "operator": "In", "values": ["v1"]}]}""");
        LabelSelector s = LabelSelector.fromNode(node);
        assertTrue(s.matches(Map.of("app", "httpbin", "version", "v1")));
        assertFalse(s.matches(Map.of("app", "httpbin")));
    }
}
