"""Chamyeo: participatory budgeting portals for every municipality. The packages inside are
layered (see ARCHITECTURE.md); `saas.app.create_app` builds the service. Nothing happens at
import."""
