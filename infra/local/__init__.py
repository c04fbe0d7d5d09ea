"""The local stack: the synthesized topology on one machine, with sandbox channel, ERP and WMS APIs."""
