package io.sourcemesh.control.translate;

import static io.sourcemesh.control.translate.ExportTo.Visibility.EXPORTED;
import static io.sourcemesh.control.translate.ExportTo.Visibility.HIDDEN;
import static io.sourcemesh.control.translate.ExportTo.Visibility.PRIVATE;
import static io.sourcemesh.control.translate.ExportTo.Visibility.PUBLIC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.IstioConfig;
import org.junit.jupiter.api.Test;

/** A VirtualService's exportTo read as Istio's pilot/pkg/model/push_context.go initVirtualServices indexes it. */
class ExportToTest {
    /** meshConfig.defaultVirtualServiceExportTo unset: Istio's [*]. */
    private static final java.util.List<String> UNSET = java.util.List.of("*");

    @Test
    void noExportToIsPublicEverywhere() {
        IstioConfig vs = vs(null);
        assertEquals(PUBLIC, ExportTo.of(vs, "shop", UNSET));
        assertEquals(PUBLIC, ExportTo.of(vs, "other", UNSET), "meshConfig's defaultVirtualServiceExportTo unset: *");
    }

    @Test
    void dotIsTheVirtualServicesOwnNamespaceOnly() {
        IstioConfig vs = vs("[.]");
        assertEquals(PRIVATE, ExportTo.of(vs, "shop", UNSET));
        assertEquals(HIDDEN, ExportTo.of(vs, "other", UNSET));
        assertFalse(ExportTo.visibleIn(vs, "other", UNSET));
    }

    @Test
    void itsOwnNamespaceByNameIsPrivateAsTheDot() {
        assertEquals(PRIVATE, ExportTo.of(vs("[shop]"), "shop", UNSET));
    }

    @Test
    void anotherNamespaceByNameIsExportedThereAndHiddenFromTheOwnNamespace() {
        IstioConfig vs = vs("[other]");
        assertEquals(EXPORTED, ExportTo.of(vs, "other", UNSET));
        assertEquals(HIDDEN, ExportTo.of(vs, "shop", UNSET), "not named: its own namespace does not see it either");
        assertEquals(HIDDEN, ExportTo.of(vs, "third", UNSET));
    }

    @Test
    void ownAndAnotherNamespace() {
        IstioConfig vs = vs("[., other]");
        assertEquals(PRIVATE, ExportTo.of(vs, "shop", UNSET));
        assertEquals(EXPORTED, ExportTo.of(vs, "other", UNSET));
        assertEquals(HIDDEN, ExportTo.of(vs, "third", UNSET));
    }

    @Test
    void tildeHidesItFromEveryoneEvenANamedNamespace() {
        assertEquals(HIDDEN, ExportTo.of(vs("[\"~\"]"), "shop", UNSET));
        assertEquals(HIDDEN, ExportTo.of(vs("[\"~\", other]"), "other", UNSET), "~ ignores every other entry");
    }

    @Test
    void starIsPublicAndWinsOverTildeAndNames() {
        assertEquals(PUBLIC, ExportTo.of(vs("[other, \"*\"]"), "third", UNSET));
        assertEquals(PUBLIC, ExportTo.of(vs("[\"*\", \"~\"]"), "third", UNSET), "Istio checks * first");
        assertEquals(PUBLIC, ExportTo.of(vs("[., \"*\"]"), "shop", UNSET), "public, not private, even in its own namespace");
        assertTrue(ExportTo.visibleIn(vs("[\"*\"]"), "third", UNSET));
    }

    @Test
    void orderedIsPrivateThenExportedThenPublicEachOldestFirstThenByNameThenNamespace() {
        IstioConfig publicOld = config("a", "shop", "2026-01-01T00:00:00Z", null);
        IstioConfig publicSameAgeB = config("b", "alpha", "2026-01-02T00:00:00Z", null);
        IstioConfig publicSameAgeA = config("a", "zulu", "2026-01-02T00:00:00Z", null);
        IstioConfig exported = config("x", "other", "2026-01-03T00:00:00Z", "[shop]");
        IstioConfig mine = config("y", "shop", "2026-01-04T00:00:00Z", "[.]");
        IstioConfig hidden = config("z", "other", "2025-01-01T00:00:00Z", "[.]");
        assertEquals(java.util.List.of(mine, exported, publicOld, publicSameAgeA, publicSameAgeB),
                ExportTo.ordered(java.util.List.of(publicSameAgeB, hidden, publicOld, mine, publicSameAgeA, exported), "shop", UNSET),
                "configCompareByCreationTime: the name before the namespace");
    }

    @Test
    void withoutExportToTheMeshDefaultAppliesItsDotBeingTheVirtualServicesNamespace() {
        IstioConfig vs = vs(null);
        assertEquals(PRIVATE, ExportTo.of(vs, "shop", java.util.List.of(".")), "copyDefaultExportToSet: . is shop");
        assertEquals(HIDDEN, ExportTo.of(vs, "other", java.util.List.of(".")));
        assertEquals(EXPORTED, ExportTo.of(vs, "other", java.util.List.of(".", "other")));
        assertEquals(HIDDEN, ExportTo.of(vs, "shop", java.util.List.of("~")));
        assertEquals(PUBLIC, ExportTo.of(vs("[\"*\"]"), "other", java.util.List.of(".")), "its own exportTo wins");
        assertEquals(HIDDEN, ExportTo.of(vs("[.]"), "other", java.util.List.of("*")));
    }

    private static IstioConfig config(String name, String namespace, String created, String exportTo) {
        return IstioConfig.of(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
                spec:
                  hosts: [cart]
                """.formatted(name, namespace, created) + (exportTo == null ? "" : "  exportTo: " + exportTo + "\n")));
    }

    private static IstioConfig vs(String exportTo) {
        return IstioConfig.of(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: cart, namespace: shop}
                spec:
                  hosts: [cart]
                """ + (exportTo == null ? "" : "  exportTo: " + exportTo + "\n")));
    }
}
