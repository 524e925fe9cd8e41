/*
 * network.c - the smallest program that uses an installed phasecast's
 * network components (phasecast::transport and phasecast::client).
 *
 * scripts/check-install builds it when the install has them. It checks
 * that the headers, the libraries and their nng and libevent dependencies
 * resolve in a user's build; it is not a test of the network layer (the
 * server and client tests are). It opens a server on inproc:// URLs, frees
 * it, and exits 0.
 */
#include <stdio.h>
#include <string.h>

#include "phasecast/client.h"
#include "phasecast/server.h"

int main(void)
{
    pc_server_options o;
    pc_server_options_init(&o);
    o.pub_url = "inproc://phasecast-consumer-pub";
    o.rep_url = "inproc://phasecast-consumer-rep";

    pc_server *srv = NULL;
    pc_err err = pc_server_new(&o, &srv, NULL);
    if (err != PC_OK) {
        fprintf(stderr, "consumer: pc_server_new: %s\n", pc_strerror(err));
        pc_transport_fini();
        return 1;
    }
    pc_server_free(srv);

    const char *name = pc_client_event_name(PC_CLIENT_EVENT_LIVE);
    pc_transport_fini();
    if (strcmp(name, "live") != 0) {
        fprintf(stderr, "consumer: unexpected event name %s\n", name);
        return 1;
    }
    printf("consumer: server opened and freed, client linked\n");
    return 0;
}
