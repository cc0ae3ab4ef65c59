"""The invoice resources' schemas: fortnox_InvoicePayload, fortnox_Invoice and fortnox_InvoicePayment
compacted to what the simulator checks, the answers' shapes, and the list queries' vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .validation import Field

__all__ = [
    "INVOICE_FIELDS",
    "INVOICE_LIST_FIELDS",
    "INVOICE_READ_ONLY",
    "INVOICE_SEARCH_FILTERS",
    "INVOICE_SHAPE",
    "INVOICE_SORT_FIELDS",
    "INVOICE_STATUS_FILTERS",
    "PAYMENT_FIELDS",
    "PAYMENT_LIST_FIELDS",
    "PAYMENT_READ_ONLY",
]

_S = Field("str")
_S1024 = Field("str", max_len=1024)
_ACCOUNT = Field("int", minimum=1000, maximum=9999)

# fortnox_InvoicePayload_InvoiceRow. Description's 255 comes from fortnox_Invoice_InvoiceRow (the
# payload row gives no limit); DeliveredQuantity is a string in the spec, numbers are accepted too.
_ROW_FIELDS: Final[Mapping[str, Field]] = {
    "AccountNumber": _ACCOUNT,
    "ArticleNumber": _S,
    "CostCenter": _S,
    "DeliveredQuantity": Field("quantity"),
    "Description": Field("str", max_len=255),
    "Discount": Field("number"),
    "DiscountType": Field("str", enum=("AMOUNT", "PERCENT")),
    "HouseWork": Field("bool"),
    "HouseWorkHoursToReport": Field("int", minimum=0, maximum=999),
    "HouseWorkType": _S,
    "Price": Field("number"),
    "Project": _S,
    "RowId": Field("int"),
    "StockPointCode": _S,
    "Unit": _S,
    "VAT": Field("int"),
    "VATCode": _S,
}
_ROW_READ_ONLY: Final[frozenset[str]] = frozenset(
    {"ContributionPercent", "ContributionValue", "PriceExcludingVAT", "Total", "TotalExcludingVAT"}
)

# fortnox_InvoicePayload, compacted.
INVOICE_FIELDS: Final[Mapping[str, Field]] = {
    "Address1": _S,
    "Address2": _S,
    "AdministrationFee": Field("number"),
    "City": _S1024,
    "Comments": _S1024,
    "CostCenter": _S,
    "Country": _S,
    "CreditInvoiceReference": _S,
    "Currency": _S,
    "CurrencyRate": Field("number"),
    "CurrencyUnit": Field("int"),
    "CustomerName": _S,
    "CustomerNumber": _S,
    "DeliveryAddress1": _S1024,
    "DeliveryAddress2": _S1024,
    "DeliveryCity": _S1024,
    "DeliveryCountry": _S,
    "DeliveryDate": Field("date"),
    "DeliveryName": _S1024,
    "DeliveryZipCode": _S1024,
    "DocumentNumber": _S,
    "DueDate": Field("date"),
    "EDIInformation": Field(
        "object",
        sub={
            "EDIGlobalLocationNumber": Field("str", max_len=13),
            "EDIGlobalLocationNumberDelivery": Field("str", max_len=13),
            "EDIInvoiceExtra1": _S,
            "EDIInvoiceExtra2": _S,
            "EDIOurElectronicReference": _S,
            "EDIYourElectronicReference": _S,
        },
    ),
    "EUQuarterlyReport": Field("bool"),
    "EmailInformation": Field(
        "object",
        sub={
            "EmailAddressBCC": _S,
            "EmailAddressCC": _S,
            "EmailAddressFrom": _S,
            "EmailAddressTo": _S,
            "EmailBody": Field("str", max_len=20000),
            "EmailSubject": Field("str", max_len=100),
        },
    ),
    "ExternalInvoiceReference1": Field("str", max_len=80),
    "ExternalInvoiceReference2": Field("str", max_len=80),
    "Freight": Field("number"),
    "InvoiceDate": Field("date"),
    "InvoiceRows": Field("array", sub=_ROW_FIELDS, read_only=_ROW_READ_ONLY),
    "InvoiceType": Field(
        "str", enum=("INVOICE", "AGREEMENTINVOICE", "INTRESTINVOICE", "SUMMARYINVOICE", "CASHINVOICE")
    ),
    "Labels": Field("array", sub={"Id": Field("int")}),
    "Language": Field("str", enum=("SV", "EN")),
    "NotCompleted": Field("bool"),
    "OCR": _S,
    "OurReference": Field("str", max_len=50),
    "OutboundDate": Field("date"),
    "PaymentWay": Field("str", enum=("CASH", "CARD", "AG")),
    "Phone1": _S1024,
    "Phone2": _S1024,
    "PriceList": _S,
    "PrintTemplate": _S,
    "Project": _S,
    "Remarks": _S1024,
    "TaxReductionType": Field("str", enum=("none", "rot", "rut", "green")),
    "TermsOfDelivery": _S,
    "TermsOfPayment": _S,
    "VATIncluded": Field("bool"),
    "WayOfDelivery": _S,
    "YourOrderNumber": Field("str", max_len=75),
    "YourReference": Field("str", max_len=50),
    "ZipCode": _S1024,
}

# fortnox_Invoice fields that are not in the payload: Fortnox computes them, so a body that carries
# them (a GET answer sent back) is accepted and they are ignored.
INVOICE_READ_ONLY: Final[frozenset[str]] = frozenset(
    {
        "@url", "@urlTaxReductionList", "AccountingMethod", "AdministrationFeeVAT", "Balance",
        "BasisTaxReduction", "Booked", "Cancelled", "ContractReference", "ContributionPercent",
        "ContributionValue", "Credit", "FinalPayDate", "FreightVAT", "Gross", "HouseWork",
        "InvoicePeriodEnd", "InvoicePeriodReference", "InvoicePeriodStart", "LastRemindDate", "Net",
        "NoxFinans", "OfferReference", "OrderReference", "OrganisationNumber", "Reminders", "RoundOff",
        "Sent", "TaxReduction", "TimeBasisReference", "Total", "TotalToPay", "TotalVAT", "VoucherNumber",
        "VoucherSeries", "VoucherYear", "WarehouseReady",
    }
)  # fmt: skip

_WRITE_OFF_FIELDS: Final[Mapping[str, Field]] = {
    "AccountNumber": _ACCOUNT,
    "Amount": Field("number"),
    "CostCenter": _S,
    "Currency": Field("str", exact_len=3),
    "Description": _S,
    "Project": _S,
    "TransactionInformation": _S,
}

# fortnox_InvoicePayment: the writable part.
PAYMENT_FIELDS: Final[Mapping[str, Field]] = {
    "Amount": Field("number"),
    "AmountCurrency": Field("number"),
    "CurrencyRate": Field("number"),
    "CurrencyUnit": Field("number"),
    "InvoiceNumber": Field("int"),
    "ModeOfPayment": _S,
    "ModeOfPaymentAccount": _ACCOUNT,
    "PaymentDate": Field("date"),
    "WriteOffs": Field("array", sub=_WRITE_OFF_FIELDS),
}
PAYMENT_READ_ONLY: Final[frozenset[str]] = frozenset(
    {
        "@url", "Booked", "Currency", "ExternalInvoiceReference1", "ExternalInvoiceReference2",
        "InvoiceCustomerName", "InvoiceCustomerNumber", "InvoiceDueDate", "InvoiceOCR", "InvoiceTotal",
        "Number", "Source", "VoucherNumber", "VoucherSeries", "VoucherYear",
    }
)  # fmt: skip

# Every field of fortnox_Invoice, so an answer always has the full shape (unset ones are null).
INVOICE_SHAPE: Final[tuple[str, ...]] = tuple(
    sorted(set(INVOICE_FIELDS) | INVOICE_READ_ONLY | {"Freight", "AdministrationFee"})
)

# fortnox_InvoiceListItem.
INVOICE_LIST_FIELDS: Final[tuple[str, ...]] = (
    "@url", "Balance", "Booked", "Cancelled", "CostCenter", "Currency", "CurrencyRate", "CurrencyUnit",
    "CustomerName", "CustomerNumber", "DocumentNumber", "DueDate", "ExternalInvoiceReference1",
    "ExternalInvoiceReference2", "FinalPayDate", "InvoiceDate", "InvoiceType", "NoxFinans", "OCR",
    "Project", "Sent", "TermsOfPayment", "Total", "VoucherNumber", "VoucherSeries", "VoucherYear",
    "WayOfDelivery",
)  # fmt: skip
PAYMENT_LIST_FIELDS: Final[tuple[str, ...]] = (
    "@url", "Amount", "Booked", "Currency", "CurrencyRate", "CurrencyUnit", "InvoiceNumber", "Number",
    "PaymentDate", "Source", "WriteOffExist",
)  # fmt: skip

# Search parameter -> invoice field: substring matches, one at a time (as Fortnox's customer search).
INVOICE_SEARCH_FILTERS: Final[Mapping[str, str]] = {
    "externalinvoicereference1": "ExternalInvoiceReference1",
    "externalinvoicereference2": "ExternalInvoiceReference2",
    "customernumber": "CustomerNumber",
    "customername": "CustomerName",
    "documentnumber": "DocumentNumber",
    "ocr": "OCR",
    "yourreference": "YourReference",
    "ourreference": "OurReference",
    "yourordernumber": "YourOrderNumber",
    "project": "Project",
    "costcenter": "CostCenter",
    "currency": "Currency",
}
INVOICE_STATUS_FILTERS: Final[tuple[str, ...]] = (
    "cancelled",
    "fullypaid",
    "unpaid",
    "unpaidoverdue",
    "unbooked",
)
# sortby -> invoice field.
INVOICE_SORT_FIELDS: Final[Mapping[str, str]] = {
    "documentnumber": "DocumentNumber",
    "customernumber": "CustomerNumber",
    "customername": "CustomerName",
    "invoicedate": "InvoiceDate",
    "ocr": "OCR",
    "total": "Total",
}
