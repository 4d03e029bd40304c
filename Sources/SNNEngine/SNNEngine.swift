// SNNEngine: the priority-queue event engine of swift-snn.
//
// Individual spike events travel over synapse graphs (explicit CSR, dense, convolutional);
// neurons are updated only when an event reaches them, with exact decay between events.
// See Docs/Architecture.md.
