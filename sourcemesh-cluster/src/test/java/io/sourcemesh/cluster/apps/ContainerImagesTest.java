package io.sourcemesh.cluster.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ContainerImagesTest {
    @Test
    void httpbinImagesRunTheBuiltInHttpbin() {
        for (String image : List.of("docker.io/citizenstig/httpbin", "kennethreitz/httpbin", "mccutchen/go-httpbin:v2",
                "docker.io/istio/httpbin@sha256:abcd", "registry.local:5000/team/httpbin:1.0")) {
            assertEquals(BuiltinApp.HTTPBIN, ContainerImages.resolve(image, List.of()), image);
        }
    }

    @Test
    void curlAndSleepCommandsRunSleep() {
        assertEquals(BuiltinApp.SLEEP, ContainerImages.resolve("curlimages/curl", List.of("/bin/sleep", "3650d")));
        assertEquals(BuiltinApp.SLEEP, ContainerImages.resolve("curlimages/curl:8.5.0", List.of()));
        assertEquals(BuiltinApp.SLEEP, ContainerImages.resolve("docker.io/curlimages/curl", List.of()));
        assertEquals(BuiltinApp.SLEEP, ContainerImages.resolve("busybox", List.of("sleep", "infinity")));
        assertEquals(BuiltinApp.SLEEP, ContainerImages.resolve("alpine:3", List.of("/bin/sh", "-c", "sleep 3600")));
        assertEquals(BuiltinApp.SLEEP, ContainerImages.resolve("citizenstig/httpbin", List.of("sleep", "1d")),
                "a command override replaces httpbin");
    }

    @Test
    void anythingElseIsAClearError() {
        UnsupportedImageException e = assertThrows(UnsupportedImageException.class,
                () -> ContainerImages.resolve("nginx:1.25", List.of()));
        assertEquals("image \"nginx:1.25\" is not supported by the embedded runtime: supported are *httpbin*"
                + " (built-in httpbin) and curlimages/curl or any container whose command is sleep", e.getMessage());
        assertEquals("nginx:1.25", e.image());
        assertThrows(UnsupportedImageException.class, () -> ContainerImages.resolve("busybox", List.of("sh")));
    }

    @Test
    void sleepAppOnlyExists() {
        SleepApp app = SleepApp.start(List.of("/bin/sleep", "3650d"));
        assertTrue(app.running());
        assertEquals(List.of("/bin/sleep", "3650d"), app.command());
        app.close();
        assertFalse(app.running());
    }
}
