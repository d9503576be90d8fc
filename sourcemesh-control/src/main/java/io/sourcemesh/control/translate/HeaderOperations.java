package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** VirtualService headers (request/response set, add, remove) → Envoy header options (Istio's TranslateHeadersOperations). */
record HeaderOperations(List<HeaderValueOption> requestToAdd, List<String> requestToRemove,
        List<HeaderValueOption> responseToAdd, List<String> responseToRemove, String authority) {

    static HeaderOperations of(JsonNode headers, String where, List<TranslationWarning> warnings) {
        JsonNode req = headers.path("request");
        JsonNode resp = headers.path("response");
        List<HeaderValueOption> reqAdd = new ArrayList<>(options(req.path("set"), false, where, warnings));
        reqAdd.addAll(options(req.path("add"), true, where, warnings));
        List<HeaderValueOption> respAdd = new ArrayList<>(options(resp.path("set"), false, where, warnings));
        respAdd.addAll(options(resp.path("add"), true, where, warnings));
        // "set" wins over "add" for the authority, as in Istio.
        String authority = authority(req.path("set"));
        if (authority.isEmpty()) {
            authority = authority(req.path("add"));
        }
        return new HeaderOperations(reqAdd, removes(req.path("remove")), respAdd, removes(resp.path("remove")), authority);
    }

    private static List<HeaderValueOption> options(JsonNode map, boolean append, String where, List<TranslationWarning> warnings) {
        List<HeaderValueOption> out = new ArrayList<>();
        map.properties().forEach(e -> {
            String key = e.getKey();
            if (internal(key)) {
                return;
            }
            String value = e.getValue().asText();
            if (value.replace("%%", "").contains("%")) {
                warnings.add(new TranslationWarning(where, "header " + key + ": " + value
                        + ": format specifiers in header values are not supported; header left out"));
                return;
            }
            out.add(HeaderValueOption.newBuilder()
                    .setHeader(HeaderValue.newBuilder().setKey(key).setValue(value))
                    .setAppendAction(append ? HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
                            : HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
                    .build());
        });
        out.sort(Comparator.comparing(o -> o.getHeader().getKey())); // Istio sorts by key for stable output
        return out;
    }

    private static String authority(JsonNode map) {
        String[] found = {""};
        map.properties().forEach(e -> {
            if (e.getKey().equalsIgnoreCase(":authority") || e.getKey().equalsIgnoreCase("host")) {
                found[0] = e.getValue().asText();
            }
        });
        return found[0];
    }

    private static List<String> removes(JsonNode list) {
        List<String> out = new ArrayList<>();
        Clusters.list(list).forEach(n -> {
            if (!internal(n.asText())) {
                out.add(n.asText());
            }
        });
        return out;
    }

    private static boolean internal(String key) {
        return key.startsWith(":") || key.toLowerCase(Locale.ROOT).equals("host");
    }
}
