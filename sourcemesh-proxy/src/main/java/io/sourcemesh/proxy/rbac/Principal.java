package io.sourcemesh.proxy.rbac;

import io.sourcemesh.proxy.address.CidrRange;
import io.sourcemesh.proxy.matcher.HeaderMatch;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.List;

/** Envoy's {@code config.rbac.v3.Principal}: who is asking. */
public sealed interface Principal {

    boolean matches(RbacRequest r);

    record And(List<Principal> ids) implements Principal {
        public And {
            ids = List.copyOf(ids);
        }

        @Override
        public boolean matches(RbacRequest r) {
            return ids.stream().allMatch(p -> p.matches(r));
        }
    }

    record Or(List<Principal> ids) implements Principal {
        public Or {
            ids = List.copyOf(ids);
        }

        @Override
        public boolean matches(RbacRequest r) {
            return ids.stream().anyMatch(p -> p.matches(r));
        }
    }

    record Not(Principal id) implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            return !id.matches(r);
        }
    }

    record Any() implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            return true;
        }
    }

    /** The TCP peer, whatever PROXY protocol or XFF say. */
    record DirectRemoteIp(CidrRange range) implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            return range.contains(r.directRemoteAddress().getAddress());
        }
    }

    /** The client after XFF (HTTP) and PROXY protocol handling. */
    record RemoteIp(CidrRange range) implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            return range.contains(r.remoteAddress().getAddress());
        }
    }

    /** Deprecated {@code source_ip}: the connection's remote address (PROXY protocol applies, XFF does not). */
    record SourceIp(CidrRange range) implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            return range.contains(r.connectionRemoteAddress().getAddress());
        }
    }

    record Header(HeaderMatch header) implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            return header.matches(r.header(header.name()));
        }
    }

    record UrlPath(StringMatch path) implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            return Paths.matches(path, r);
        }
    }

    /** Envoy's {@code metadata}: a value of the stream's dynamic metadata (Istio's request principals and claims). */
    record Metadata(MetadataMatch match) implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            return match.matches(r);
        }
    }

    /**
     * Envoy's {@code authenticated}: a TLS connection the proxy terminated; with {@code principal_name}, a match on the
     * client certificate's URI SANs, then DNS SANs, then subject (an empty subject when it presented none).
     */
    record Authenticated(java.util.Optional<StringMatch> principalName) implements Principal {
        @Override
        public boolean matches(RbacRequest r) {
            if (!r.tls()) {
                return false;
            }
            if (principalName.isEmpty()) {
                return true;
            }
            for (String name : r.peerPrincipals()) {
                if (principalName.get().matches(name)) {
                    return true;
                }
            }
            return false;
        }
    }
}
