package io.sourcemesh.proxy.config;

import java.util.List;

/**
 * Envoy's request_headers_to_add/remove and response_headers_to_add/remove of one level (route,
 * virtual host). Removals apply before additions, as Envoy's HeaderParser does.
 */
public record HeaderMutations(List<HeaderValue> requestToAdd, List<String> requestToRemove,
        List<HeaderValue> responseToAdd, List<String> responseToRemove) {

    public static final HeaderMutations NONE = new HeaderMutations(List.of(), List.of(), List.of(), List.of());

    public HeaderMutations {
        requestToAdd = List.copyOf(requestToAdd);
        requestToRemove = List.copyOf(requestToRemove);
        responseToAdd = List.copyOf(responseToAdd);
        responseToRemove = List.copyOf(responseToRemove);
    }

    public boolean isEmpty() {
        return requestToAdd.isEmpty() && requestToRemove.isEmpty() && responseToAdd.isEmpty() && responseToRemove.isEmpty();
    }

    /** HeaderValueOption's append_action. */
    public enum Action { APPEND_IF_EXISTS_OR_ADD, ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS }

    public record HeaderValue(String key, String value, Action action, boolean keepEmptyValue) {}
}
