package io.sourcemesh.proxy.jwt;

import java.util.List;

/**
 * Envoy's {@code JwtRequirement} tree ({@code verifier.cc}): one provider's token, any or all of several requirements,
 * and the by-passes that let a request without a token (or, {@code allow_missing_or_failed}, with a bad one) through.
 */
public sealed interface JwtRequirement {

    /** {@code provider_name} (or {@code provider_and_audiences}: {@code audiences} replace the provider's). */
    record Provider(JwtProvider provider, List<String> audiences) implements JwtRequirement {
        public Provider {
            audiences = List.copyOf(audiences);
        }
    }

    /** {@code requires_any}: the regular requirements in order, then the one by-pass, as Envoy's AnyVerifierImpl orders them. */
    record Any(List<JwtRequirement> requirements) implements JwtRequirement {
        public Any {
            requirements = List.copyOf(requirements);
        }
    }

    /** {@code requires_all}. */
    record All(List<JwtRequirement> requirements) implements JwtRequirement {
        public All {
            requirements = List.copyOf(requirements);
        }
    }

    /**
     * {@code allow_missing} ({@code orFailed}: {@code allow_missing_or_failed}) inside a {@code requires_any}: the
     * tokens of its sibling providers, verified if present; alone, it has no provider and so never finds a token.
     */
    record AllowMissing(List<JwtProvider> providers, boolean orFailed) implements JwtRequirement {
        public AllowMissing {
            providers = List.copyOf(providers);
        }
    }

    /** A rule without a requirement: nothing verified. */
    record AllowAll() implements JwtRequirement {}
}
