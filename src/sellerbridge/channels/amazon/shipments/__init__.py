"""Shipment confirmation: telling Amazon that an FBM package shipped, once, and checking it.

:mod:`.carriers` turns the ERP's carrier names into Amazon's carrier codes; :mod:`.confirm`
sends the pending confirmations and reads them back from the order.
"""
