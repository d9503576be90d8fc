package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code *_headers_to_add/remove} of a route or virtual host → {@link HeaderMutations}. */
final class HeaderOptions {
    private HeaderOptions() {}

    static HeaderMutations of(List<HeaderValueOption> requestAdd, List<String> requestRemove,
            List<HeaderValueOption> responseAdd, List<String> responseRemove, String path) {
        if (requestAdd.isEmpty() && requestRemove.isEmpty() && responseAdd.isEmpty() && responseRemove.isEmpty()) {
            return HeaderMutations.NONE;
        }
        return new HeaderMutations(adds(requestAdd, at(path, "request_headers_to_add")),
                removes(requestRemove, at(path, "request_headers_to_remove")),
                adds(responseAdd, at(path, "response_headers_to_add")),
                removes(responseRemove, at(path, "response_headers_to_remove")));
    }

    private static List<HeaderMutations.HeaderValue> adds(List<HeaderValueOption> options, String path) {
        List<HeaderMutations.HeaderValue> out = new ArrayList<>();
        for (int i = 0; i < options.size(); i++) {
            String oPath = path + "[" + i + "]";
            HeaderValueOption o = options.get(i);
            only(o, oPath, "header", "append", "append_action", "keep_empty_value");
            only(o.getHeader(), at(oPath, "header"), "key", "value");
            String key = o.getHeader().getKey().toLowerCase(Locale.ROOT);
            if (key.isEmpty()) {
                throw new ConfigException(at(oPath, "header.key"), "is required");
            }
            if (key.startsWith(":") || key.equals("host")) {
                throw new ConfigException(at(oPath, "header.key"), "':-prefixed' or 'host' headers may not be modified");
            }
            if (o.hasAppend() && o.getAppendAction() != HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD) {
                throw new ConfigException(oPath, "Both append and append_action are set and it's not allowed");
            }
            HeaderMutations.Action action = o.hasAppend()
                    ? (o.getAppend().getValue() ? HeaderMutations.Action.APPEND_IF_EXISTS_OR_ADD
                            : HeaderMutations.Action.OVERWRITE_IF_EXISTS_OR_ADD)
                    : switch (o.getAppendAction()) {
                        case APPEND_IF_EXISTS_OR_ADD -> HeaderMutations.Action.APPEND_IF_EXISTS_OR_ADD;
                        case ADD_IF_ABSENT -> HeaderMutations.Action.ADD_IF_ABSENT;
                        case OVERWRITE_IF_EXISTS_OR_ADD -> HeaderMutations.Action.OVERWRITE_IF_EXISTS_OR_ADD;
                        case OVERWRITE_IF_EXISTS -> HeaderMutations.Action.OVERWRITE_IF_EXISTS;
                        default -> throw new ConfigException(at(oPath, "append_action"), o.getAppendAction() + " is not supported");
                    };
            out.add(new HeaderMutations.HeaderValue(key, literal(o.getHeader().getValue(), at(oPath, "header.value")), action,
                    o.getKeepEmptyValue()));
        }
        return out;
    }

    /**
     * Envoy reads a header value as a substitution format (%DOWNSTREAM_REMOTE_ADDRESS% and the
     * like); we support literal values only ("%%" is a literal %), and refuse the rest by path.
     */
    private static String literal(String value, String path) {
        String rest = value.replace("%%", "");
        if (rest.contains("%")) {
            throw new ConfigException(path, value + ": format specifiers in header values are not supported (literal values only)");
        }
        return value.replace("%%", "%");
    }

    private static List<String> removes(List<String> names, String path) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i).toLowerCase(Locale.ROOT);
            if (name.startsWith(":") || name.equals("host")) {
                throw new ConfigException(path + "[" + i + "]", "':-prefixed' or 'host' headers may not be removed");
            }
            out.add(name);
        }
        return out;
    }
}
