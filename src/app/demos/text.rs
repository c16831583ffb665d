//! The demos' titles and "what to watch" texts. Numbers are measured on the built-in cell
//! (`demos::tests` checks the phenomena).

use super::Demo;

pub(super) fn title(demo: Demo) -> &'static str {
    match demo {
        Demo::EpspAttenuation => "EPSP attenuation along a dendrite",
        Demo::NmdaSpike => "NMDA spike from clustered input",
        Demo::BacFiring => "BAC firing (back-propagation-activated Ca spike)",
        Demo::InhibitoryVeto => "Inhibition vetoes a spike",
        Demo::BackgroundTwin => "The paper's input protocol, with the twin",
        Demo::AmpaOnly => "NMDA off (AMPA-only synapses)",
    }
}

pub(super) fn explanation(demo: Demo) -> &'static str {
    match demo {
        Demo::EpspAttenuation => {
            "One excitatory synapse on the tip of the most distal basal dendrite fires once, at t = 50 ms. \
Three recording sites: at the synapse, midway along the path to the soma, and at the soma.\n\n\
Watch the three traces: at the synapse the EPSP is large and fast (about 25 mV, peak 2 ms after \
the input, on the built-in cell); midway it is about eight times smaller and later (3.1 mV, 5 ms); \
at the soma it is a ripple of about 0.16 mV that peaks 11 ms after the input. The thin dendrite \
has a high input impedance, so the local EPSP is big; the current then leaks out and charges the \
membrane on its way, which shrinks and broadens the EPSP. The demo pauses at 200 ms."
        }
        Demo::NmdaSpike => {
            "Twenty excitatory synapses clustered on the outer half of one distal basal branch fire \
together at t = 50 ms. The recording site sits on the branch.\n\n\
Watch the branch trace: instead of a brief EPSP it jumps to a plateau near −3 mV that lasts tens \
of ms (on the built-in cell it stays above −30 mV for about 50 ms) while the soma barely moves. \
The depolarisation relieves the Mg2+ block of the NMDA receptors, whose current depolarises \
further: a regenerative, local NMDA spike. Switch NMDA off (Inputs) and press Replay: the same \
input gives only a short AMPA EPSP. The demo pauses at 300 ms.\n\n\
Colour the cell by NMDA conductance (the button below, or View, colour by g NMDA): the branch \
lights up and stays lit for tens of ms, because the depolarisation keeps the NMDA receptors \
unblocked, while the AMPA conductance (colour by g AMPA) is gone within a few ms. The space plot (P) along \
the branch shows the plateau and how little of it reaches the soma."
        }
        Demo::BacFiring => {
            "Distal apical input at the nexus (the main bifurcation of the apical trunk) and a 5-ms \
somatic current pulse. First (t = 50 ms) the distal input alone: it stays subthreshold at the \
soma. Then (t = 300 ms) the pulse, with the same distal input 5 ms after its onset.\n\n\
Watch the nexus trace and the soma: the pairing fires a dendritic Ca2+ spike (the nexus stays \
above −30 mV for about 25 ms) and a burst of somatic spikes. On the Hay cell (cell1.asc) the \
pulse (1.6 nA) alone fires exactly one AP and no Ca spike; paired with 50 distal synapses it \
fires a Ca spike and a burst: the back-propagating AP and the distal EPSP together cross the \
Ca-spike threshold (Larkum 1999). The built-in cell, calibrated against the Hay cell, does the \
same with a 1.35-nA pulse (its one-AP range at the paper's 6.3 °C). The demo pauses at 500 ms.\n\n\
Colour the cell by intracellular calcium (the button below, or View, colour by [Ca2+]i, a log \
scale): the Ca spike fills the hot zone around the nexus with calcium, which stays for tens of \
ms after the burst; the back-propagating APs alone leave far less. The space plot (P) along the \
apical trunk shows the peak voltage and [Ca2+]i against distance: the bAP shrinking up the \
trunk, the Ca plateau at the nexus."
        }
        Demo::InhibitoryVeto => {
            "The same excitatory volley (120 synapses half-way along the basal stems, fired \
together) arrives twice. At t = 50 ms, 60 inhibitory synapses on the soma and the base of the \
stems fire 3 ms before it; at t = 300 ms it arrives alone.\n\n\
Watch the soma: the first volley is shunted and stays subthreshold; the second, identical \
volley fires the cell (a doublet). Inhibition near the soma, on the path of the excitation, \
vetoes the output. (The inhibited volley comes first because after a spike the cell stays \
hyperpolarised for hundreds of ms at 6.3 °C.) The demo pauses at 500 ms."
        }
        Demo::BackgroundTwin => {
            "The paper's input protocol: one excitatory and one inhibitory synapse on every \
dendritic segment, driven by the dataset's generator (tree rates redrawn every 25–450 ms), with \
NMDA on, as in the training data. The deep-network twin (magenta) runs beside the cell (cyan) on \
exactly the input the cell receives.\n\n\
Watch the two soma traces and their spike marks, and the twin's spike probability: the twin \
predicts the cell's output from its recent input alone, never from the cell's voltage (a TCN \
twin sees the last 100 ms; a Branch-ELM twin carries memories with time constants up to 150 ms). Click a spike in the voltage \
plot to see which inputs preceded it (spike-triggered view)."
        }
        Demo::AmpaOnly => {
            "The same protocol with the NMDA component switched off (AMPA-only synapses and the \
AMPA parameter set of the input generator).\n\n\
The paper's point: an AMPA-only cell is an almost linear integrator, and a shallow network \
(one hidden layer) captures its input-output function, while the NMDA cell needs a deep one. \
On the Hay cell the twin switches to l5pc-hay-ampa, a twin trained on AMPA-only simulations (the twin panel \
says so), and follows the cell as closely as the NMDA twin does with NMDA on. The built-in cell has no AMPA-only \
twin: there the NMDA twin runs outside what it learned and disagrees with the cell; watch the magenta trace and \
spikes drift from the cyan ones."
        }
    }
}
